import { loadConfig } from '@rallyforge/service-kit';
import { documentsConfigSchema } from './config';
import { startDocumentsService } from './documents.app';

void startDocumentsService(loadConfig(documentsConfigSchema));
