import { BusTables1700000000000 } from '@rallyforge/bus';
import { ClaimsSchema1767312000000 } from './1767312000000-claims-schema';

/** Every migration of the claims database, in order: the bus tables first, then ours. */
export const CLAIMS_MIGRATIONS = [BusTables1700000000000, ClaimsSchema1767312000000];
