/** Kinds of VA benefit claim a veteran can file (documented in the OpenAPI enum of POST /claims). */
export const CLAIM_TYPES = ['disability_compensation', 'pension', 'education', 'health_care', 'other'] as const;
export type ClaimType = (typeof CLAIM_TYPES)[number];

/** Lifecycle of a claim. New claims start as `submitted`; representatives and org admins move them on. */
export const CLAIM_STATUSES = ['submitted', 'in_review', 'decided', 'closed'] as const;
export type ClaimStatus = (typeof CLAIM_STATUSES)[number];
export const INITIAL_CLAIM_STATUS: ClaimStatus = 'submitted';
/** Where a claim may go from each status (PATCH /claims/:id/status, representatives and org admins). */
export const CLAIM_STATUS_TRANSITIONS: Readonly<Record<ClaimStatus, readonly ClaimStatus[]>> = {
  submitted: ['in_review', 'closed'],
  in_review: ['decided', 'closed'],
  decided: ['closed'],
  closed: [],
};

export const CLAIM_TITLE_MIN_LENGTH = 3;
export const CLAIM_TITLE_MAX_LENGTH = 200;

/** Page size of GET /claims. */
export const LIST_DEFAULT_LIMIT = 20;
export const LIST_MAX_LIMIT = 100;
/** An opaque cursor is short; anything longer is not one of ours. */
export const CURSOR_MAX_LENGTH = 128;


/** Stable error codes of this service (besides the kit's generic ones). */
export const ClaimsErrorCode = {
  CLAIM_NOT_FOUND: 'CLAIM_NOT_FOUND',
  INVALID_CURSOR: 'INVALID_CURSOR',
  CLAIM_STATUS_TRANSITION_INVALID: 'CLAIM_STATUS_TRANSITION_INVALID',
} as const;

/** Service name: API path segment, bus queue `rf.claims`, log `service` field. */
export const CLAIMS_SERVICE_NAME = 'claims';
