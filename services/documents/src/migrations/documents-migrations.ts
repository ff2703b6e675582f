import { BusTables1700000000000 } from '@rallyforge/bus';
import { DocumentsSchema1767312000000 } from './1767312000000-documents-schema';
import { DocumentsRowLevelSecurity1790000000000 } from './1790000000000-row-level-security';

/** Every migration of the documents database, in order: the bus tables first, then ours. */
export const DOCUMENTS_MIGRATIONS = [BusTables1700000000000, DocumentsSchema1767312000000, DocumentsRowLevelSecurity1790000000000];
