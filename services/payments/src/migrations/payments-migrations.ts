import { BusTables1700000000000 } from '@rallyforge/bus';
import { CreatePayments1763800000000 } from './1763800000000-create-payments';

/** Every migration of the payments database, oldest first (the bus tables first: the outbox lives here too). */
export const PAYMENTS_MIGRATIONS = [BusTables1700000000000, CreatePayments1763800000000];
