import { BusTables1700000000000 } from '@rallyforge/bus';
import { CreatePayments1763800000000 } from './1763800000000-create-payments';
import { PaymentsRowLevelSecurity1790000000000 } from './1790000000000-row-level-security';

/** Every migration of the payments database, oldest first (the bus tables first: the outbox lives here too). */
export const PAYMENTS_MIGRATIONS = [BusTables1700000000000, CreatePayments1763800000000, PaymentsRowLevelSecurity1790000000000];
