import { CanActivate, ExecutionContext, Inject, Injectable } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { RequestContext } from '../context/request-context';
import { forbidden, unauthenticated } from '../errors/app-error';
import { AccessTokenVerifier } from './access-token.verifier';
import { IS_PUBLIC_KEY, ROLES_KEY, type AuthenticatedRequest } from './auth.decorators';

const BEARER = /^Bearer\s+([A-Za-z0-9\-_]+\.[A-Za-z0-9\-_]*\.[A-Za-z0-9\-_]*)\s*$/i;

/**
 * Registered globally: every HTTP route needs a valid bearer token unless it is @Public(); @Roles() narrows it
 * further. The user lands on `request.user` and its tenant in the request context (and so in every log line).
 * Bus handlers are not HTTP: they authorise from the envelope's actor in the service layer.
 */
@Injectable()
export class JwtAuthGuard implements CanActivate {
  constructor(
    private readonly reflector: Reflector,
    @Inject(AccessTokenVerifier) private readonly verifier: AccessTokenVerifier,
  ) {}

  async canActivate(context: ExecutionContext): Promise<boolean> {
    if (context.getType() !== 'http') {
      return true;
    }
    const targets = [context.getHandler(), context.getClass()];
    if (this.reflector.getAllAndOverride<boolean>(IS_PUBLIC_KEY, targets)) {
      return true;
    }

    const request = context.switchToHttp().getRequest<AuthenticatedRequest>();
    const header = request.headers.authorization;
    if (!header) {
      throw unauthenticated('Missing bearer token');
    }
    const match = BEARER.exec(header);
    if (!match) {
      throw unauthenticated('Authorization header must be "Bearer <token>"');
    }
    const user = await this.verifier.verify(match[1]!);
    request.user = user;
    const identity = { tenantId: user.tenantId, userId: user.userId };
    RequestContext.assign(identity);
    const attached = RequestContext.of(request);
    if (attached) {
      Object.assign(attached, identity);
    }

    const roles = this.reflector.getAllAndOverride<string[] | undefined>(ROLES_KEY, targets);
    if (roles && roles.length > 0 && !roles.some((role) => user.roles.includes(role))) {
      throw forbidden(`This needs one of the roles: ${roles.join(', ')}`);
    }
    return true;
  }
}
