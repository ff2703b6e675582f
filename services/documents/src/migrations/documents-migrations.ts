import { BusTables1700000000000 } from '@rallyforge/bus';
import { DocumentsSchema1767312000000 } from './1767312000000-documents-schema';

/** Every migration of the documents database, in order: the bus tables first, then ours. */
export const DOCUMENTS_MIGRATIONS = [BusTables1700000000000, DocumentsSchema1767312000000];
