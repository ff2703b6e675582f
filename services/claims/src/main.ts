import { loadConfig } from '@rallyforge/service-kit';
import { startClaimsService } from './claims.app';
import { claimsConfigSchema } from './config';

void startClaimsService(loadConfig(claimsConfigSchema));
