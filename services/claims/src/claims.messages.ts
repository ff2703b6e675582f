/** Log and error messages of the claims service, as constants (tests and log searches use the same text). */
export const ClaimsMessages = {
  claimNotFound: 'Claim not found',
  statusTransitionInvalid: (from: string, to: string, allowed: readonly string[]) =>
    `A claim cannot go from ${from} to ${to}` + (allowed.length ? `; from ${from} it can go to ${allowed.join(', ')}` : `: ${from} is final`),
  invalidCursor: 'The cursor is not valid: pass the nextCursor of a previous page, or omit it for the first page',
  evidenceRefused: (reason: string) => `Refused evidence from document.uploaded: ${reason}`,
  evidenceAttached: 'Attached evidence to claim',
  evidenceDuplicate: 'Ignored a duplicate document.uploaded: the evidence was attached before',
} as const;
