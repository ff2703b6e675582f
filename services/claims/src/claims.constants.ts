/** Kinds of VA benefit claim a veteran can file (documented in the OpenAPI enum of POST /claims). */
export const CLAIM_TYPES = ['disability_compensation', 'pension', 'education', 'health_care', 'other'] as const;
export type ClaimType = (typeof CLAIM_TYPES)[number];

/** Lifecycle of a claim. New claims start as `submitted`; the later states are set by representatives (later issue). */
export const CLAIM_STATUSES = ['submitted', 'in_review', 'decided', 'closed'] as const;
export type ClaimStatus = (typeof CLAIM_STATUSES)[number];
export const INITIAL_CLAIM_STATUS: ClaimStatus = 'submitted';

export const CLAIM_TITLE_MIN_LENGTH = 3;
export const CLAIM_TITLE_MAX_LENGTH = 200;

/** Page size of GET /claims. */
export const LIST_DEFAULT_LIMIT = 20;
export const LIST_MAX_LIMIT = 100;
/** An opaque cursor is short; anything longer is not one of ours. */
export const CURSOR_MAX_LENGTH = 128;

/** Roles that see and act on every claim of their organisation; everyone else sees only their own. */
export const ORGANISATION_ROLES: readonly string[] = ['representative', 'org_admin'];
/** Roles that may file a claim (for themselves). */
export const FILING_ROLES: readonly string[] = ['veteran'];

/** Stable error codes of this service (besides the kit's generic ones). */
export const ClaimsErrorCode = {
  CLAIM_NOT_FOUND: 'CLAIM_NOT_FOUND',
  INVALID_CURSOR: 'INVALID_CURSOR',
} as const;

/** Service name: API path segment, bus queue `rf.claims`, log `service` field. */
export const CLAIMS_SERVICE_NAME = 'claims';
