import { baseConfigSchema, envEnum, envInt } from '@rallyforge/service-kit';
import { z } from 'zod';
import { DEFAULT_UPLOAD_MAX_BYTES, UPLOAD_MAX_BYTES_CEILING } from './documents.constants';

export const STORAGE_DRIVERS = ['local'] as const;

/** The documents service's environment: the common variables (Redis: rate limits, tenant limits) plus storage and upload settings. */
export const documentsConfigSchema = baseConfigSchema.extend({
  /** Where document bytes go. Only `local` today; `s3` comes later. */
  STORAGE_DRIVER: envEnum(STORAGE_DRIVERS, 'local'),
  /** Root directory of the local driver (a persistent volume in Kubernetes). Created if missing. */
  STORAGE_LOCAL_DIR: z.string().min(1).describe('an absolute directory path for stored documents'),
  /** Largest accepted upload; one byte more is a 413. */
  UPLOAD_MAX_BYTES: envInt({ min: 1, max: UPLOAD_MAX_BYTES_CEILING, default: DEFAULT_UPLOAD_MAX_BYTES }),
});

export type DocumentsConfig = z.infer<typeof documentsConfigSchema>;
