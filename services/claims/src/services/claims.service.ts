import { randomUUID } from 'node:crypto';
import { Injectable } from '@nestjs/common';
import { AppError, forbidden, type AuthUser } from '@rallyforge/service-kit';
import { CLAIM_STATUS_TRANSITIONS, ClaimsErrorCode, INITIAL_CLAIM_STATUS, LIST_DEFAULT_LIMIT } from '../claims.constants';
import { ClaimsMessages } from '../claims.messages';
import type { ClaimDto, ClaimPageDto } from '../dtos/claim.dto';
import type { ChangeClaimStatusDto } from '../dtos/change-claim-status.dto';
import type { CreateClaimDto } from '../dtos/create-claim.dto';
import type { ListClaimsQueryDto } from '../dtos/list-claims-query.dto';
import { ClaimsRepository } from '../repositories/claims.repository';
import { canChangeClaimStatus, canFileClaims, claimScopeFor } from '../utils/claim-access';
import { ClaimCursorCodec, type ClaimCursor } from '../utils/claim-cursor';
import { toClaimDto, toClaimSummaryDto } from './claim-mapper';

export const claimNotFound = (): AppError => new AppError(404, ClaimsErrorCode.CLAIM_NOT_FOUND, ClaimsMessages.claimNotFound);

/** Filing and reading claims over HTTP. Every method starts from the caller's scope (tenant, and owner for veterans). */
@Injectable()
export class ClaimsService {
  constructor(private readonly claims: ClaimsRepository) {}

  /** Files a claim for the caller; `claim.created` is written to the outbox in the same transaction. */
  async create(user: AuthUser, dto: CreateClaimDto): Promise<ClaimDto> {
    if (!canFileClaims(user)) throw forbidden('Only veterans can file claims');
    const claim = await this.claims.create(
      {
        id: randomUUID(),
        tenantId: user.tenantId,
        ownerId: user.userId,
        title: dto.title,
        type: dto.type,
        status: INITIAL_CLAIM_STATUS,
      },
      { kind: 'user', id: user.userId, roles: [...user.roles] },
    );
    return toClaimDto(claim, []);
  }

  /** The caller's claims (organisation roles: the organisation's), newest first, keyset-paginated. */
  async list(user: AuthUser, query: ListClaimsQueryDto): Promise<ClaimPageDto> {
    const scope = claimScopeFor(user);
    const limit = query.limit ?? LIST_DEFAULT_LIMIT;
    const after = query.cursor === undefined ? undefined : decodeCursor(query.cursor);
    // One row more than asked tells whether there is a next page without a count query.
    const rows = await this.claims.list(scope, { limit: limit + 1, after });
    const items = rows.slice(0, limit);
    const last = items[items.length - 1];
    return {
      items: items.map(toClaimSummaryDto),
      nextCursor: rows.length > limit && last ? ClaimCursorCodec.encode({ createdAt: last.createdAt, id: last.id }) : null,
    };
  }

  /** One claim with its evidence; a claim outside the caller's scope is indistinguishable from a missing one. */
  async get(user: AuthUser, id: string): Promise<ClaimDto> {
    const scope = claimScopeFor(user);
    const found = await this.claims.findWithEvidence(scope, id);
    if (!found) throw claimNotFound();
    return toClaimDto(found.claim, found.evidence);
  }

  /**
   * Moves a claim of the caller's organisation to `dto.status` along CLAIM_STATUS_TRANSITIONS (409 otherwise);
   * the change and its audit entry commit together. Another organisation's claim is a 404 like a missing one.
   */
  async changeStatus(user: AuthUser, id: string, dto: ChangeClaimStatusDto): Promise<ClaimDto> {
    if (!canChangeClaimStatus(user)) throw forbidden('Only representatives and org admins can change the status of a claim');
    const result = await this.claims.changeStatus(
      claimScopeFor(user),
      id,
      dto.status,
      (current) => CLAIM_STATUS_TRANSITIONS[current].includes(dto.status),
      user,
    );
    if (!result) throw claimNotFound();
    if (!result.changed) {
      const from = result.claim.status;
      throw new AppError(
        409,
        ClaimsErrorCode.CLAIM_STATUS_TRANSITION_INVALID,
        ClaimsMessages.statusTransitionInvalid(from, dto.status, CLAIM_STATUS_TRANSITIONS[from]),
      );
    }
    return this.get(user, id);
  }
}

function decodeCursor(value: string): ClaimCursor {
  const cursor = ClaimCursorCodec.decode(value);
  if (!cursor) throw new AppError(400, ClaimsErrorCode.INVALID_CURSOR, ClaimsMessages.invalidCursor);
  return cursor;
}
