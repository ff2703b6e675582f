import { BusTables1700000000000 } from '@rallyforge/bus';
import { ClaimsSchema1767312000000 } from './1767312000000-claims-schema';
import { ClaimsRowLevelSecurity1790000000000 } from './1790000000000-row-level-security';

/** Every migration of the claims database, in order: the bus tables first, then ours. */
export const CLAIMS_MIGRATIONS = [BusTables1700000000000, ClaimsSchema1767312000000, ClaimsRowLevelSecurity1790000000000];
