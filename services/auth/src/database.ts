import { BusTables1700000000000 } from '@rallyforge/bus';
import type { DatabaseOptions } from '@rallyforge/service-kit';
import { AUTH_ENTITIES } from './entities/auth-entities';
import { AuthSchema1767225600000 } from './migrations/1767225600000-auth-schema';
import { AccountEmail1790100000000 } from './migrations/1790100000000-account-email';
import { AuthAccountSecurity1790200000000 } from './migrations/1790200000000-account-security';
import { AuthAuditLog1790300000000 } from './migrations/1790300000000-audit-log';
import { AuthGdprJobs1790400000000 } from './migrations/1790400000000-gdpr-jobs';
import { AuthRowLevelSecurity1790000000000 } from './migrations/1790000000000-row-level-security';

/** Entities and migrations (bus tables first), shared by the running service and `dist/migrate.js`. */
export const AUTH_DATABASE: DatabaseOptions = {
  entities: AUTH_ENTITIES,
  migrations: [
    BusTables1700000000000,
    AuthSchema1767225600000,
    AuthRowLevelSecurity1790000000000,
    AccountEmail1790100000000,
    AuthAccountSecurity1790200000000,
    AuthAuditLog1790300000000,
    AuthGdprJobs1790400000000,
  ],
};
