import { CanActivate, ExecutionContext, Inject, Injectable, Optional } from '@nestjs/common';
import type { FastifyReply } from 'fastify';
import type { AuthenticatedRequest } from '../auth/auth.decorators';
import type { RateLimitDecision } from './rate-limiter';
import { RateLimitService } from './rate-limit.service';

/** Where the per-address decision of a request is kept, so the guard can report the tighter of the two. */
export const ADDRESS_DECISION = Symbol.for('rallyforge.rateLimit.addressDecision');
export type RequestWithDecision = AuthenticatedRequest & { [ADDRESS_DECISION]?: RateLimitDecision };

/**
 * Registered globally right after JwtAuthGuard: takes an authenticated request from its user's and its tenant's
 * budgets (429 with Retry-After when one is spent). Anonymous requests (@Public) were limited per address already.
 */
@Injectable()
export class RateLimitGuard implements CanActivate {
  constructor(@Optional() @Inject(RateLimitService) private readonly limits: RateLimitService | null) {}

  async canActivate(context: ExecutionContext): Promise<boolean> {
    if (!this.limits || context.getType() !== 'http') return true;
    const http = context.switchToHttp();
    const request = http.getRequest<RequestWithDecision>();
    if (!request.user) return true;
    const decision = await this.limits.checkUser(request.user);
    if (!decision) return true;
    const address = request[ADDRESS_DECISION];
    if (!decision.allowed || !address || decision.remaining < address.remaining) {
      RateLimitService.applyHeaders(http.getResponse<FastifyReply>(), decision);
    }
    if (!decision.allowed) throw RateLimitService.tooManyRequests(decision);
    return true;
  }
}
