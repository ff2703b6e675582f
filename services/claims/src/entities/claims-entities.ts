import { ClaimEvidenceEntity } from './claim-evidence.entity';
import { ClaimEntity } from './claim.entity';

/** Every entity of the claims database (for the DataSource). */
export const CLAIMS_ENTITIES = [ClaimEntity, ClaimEvidenceEntity];
