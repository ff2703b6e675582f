import { DocumentEntity } from './document.entity';

/** Every entity of the documents database (for the DataSource). */
export const DOCUMENTS_ENTITIES = [DocumentEntity];
