import type { Provider } from '@nestjs/common';
import { SERVICE_CONFIG } from '@rallyforge/service-kit';
import type { DocumentsConfig } from '../config';
import { LocalDiskStorageDriver } from './local-disk-storage.driver';
import { STORAGE_DRIVER, type StorageDriver } from './storage.driver';

/** The StorageDriver chosen by STORAGE_DRIVER (only `local` today; `s3` is the next one). */
export const storageDriverProvider: Provider = {
  provide: STORAGE_DRIVER,
  inject: [SERVICE_CONFIG],
  useFactory: (config: DocumentsConfig): StorageDriver => {
    switch (config.STORAGE_DRIVER) {
      case 'local':
        return LocalDiskStorageDriver.create({ rootDir: config.STORAGE_LOCAL_DIR });
    }
  },
};
