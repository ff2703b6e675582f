import { applyDecorators, CanActivate, ExecutionContext, Inject, Injectable, Logger, Optional, SetMetadata, UseGuards } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import {
  AuditAction,
  PERMISSIONS,
  actorHasPermission,
  rolesHavePermission,
  type Actor,
  type Permission,
} from '@rallyforge/contracts';
import { AppError, ErrorCode } from '../errors/app-error';
import { AuditTrail } from '../audit/audit-trail';
import type { AuthenticatedRequest } from './auth.decorators';

export const PERMISSION_KEY = 'rallyforge:permission';

/**
 * `@RequirePermission('claims:read')` on a controller method (HTTP or bus) or a whole controller: the caller must
 * hold the permission in the one map of `@rallyforge/contracts` (PERMISSIONS). Over HTTP the roles come from the
 * verified access token (JwtAuthGuard runs first); on the bus from the envelope's actor (a `service` actor holds
 * only the permissions marked `services`). Resource rules (own vs. organisation, tenant) are the service's job.
 */
export const RequirePermission = (permission: Permission): MethodDecorator & ClassDecorator => {
  if (!(permission in PERMISSIONS)) throw new Error(`Unknown permission "${permission}": add it to PERMISSIONS in @rallyforge/contracts`);
  // The guard is bound here, not as an APP_GUARD: global guards never reach the bus's handlers (the microservice is
  // connected without the HTTP app's config), and a permission that holds over HTTP only is no permission at all.
  // Handler-level guards run after the global ones, so JWT authentication and rate limits still come first.
  return applyDecorators(SetMetadata(PERMISSION_KEY, permission), UseGuards(PermissionGuard));
};

export const PermissionMessages = {
  denied: (permission: Permission) => `You do not have the permission ${permission}`,
  busDenied: (permission: Permission, actor: string) =>
    `The message's actor (${actor}) does not have the permission ${permission}; send it as an actor that does`,
  deniedLog: 'Refused a call without the permission it needs',
} as const;

/** A bus handler's context, as far as this guard needs it (BusContext of @rallyforge/bus, duck-typed). */
interface BusCallContext {
  readonly actor?: Actor;
  readonly tenantId: string;
}

function isBusCallContext(value: unknown): value is BusCallContext {
  return typeof value === 'object' && value !== null && 'tenantId' in value && typeof (value as BusCallContext).tenantId === 'string';
}

/**
 * Bound by @RequirePermission to the handlers it marks (after the global JwtAuthGuard and RateLimitGuard). Refuses (403 FORBIDDEN over HTTP; a FORBIDDEN error reply or a parked
 * event on the bus) any call to a handler marked with @RequirePermission whose caller lacks it, and appends an
 * `access.denied` entry to the audit log when the service has one (AuditTrail).
 */
@Injectable()
export class PermissionGuard implements CanActivate {
  private readonly logger = new Logger(PermissionGuard.name);

  constructor(
    private readonly reflector: Reflector,
    @Optional() @Inject(AuditTrail) private readonly audit: AuditTrail | null,
  ) {}

  async canActivate(context: ExecutionContext): Promise<boolean> {
    const permission = this.reflector.getAllAndOverride<Permission | undefined>(PERMISSION_KEY, [context.getHandler(), context.getClass()]);
    if (!permission) return true;

    if (context.getType() === 'http') {
      const user = context.switchToHttp().getRequest<AuthenticatedRequest>().user;
      // @Public() routes have no user; a permission on them is a contradiction the route's author must resolve.
      if (user && rolesHavePermission(user.roles, permission)) return true;
      if (user) {
        this.logger.warn({ msg: PermissionMessages.deniedLog, permission, handler: context.getHandler().name });
        await this.recordDenied(user.tenantId, { kind: 'user', id: user.userId, roles: [...user.roles] }, permission, context);
      }
      throw new AppError(403, ErrorCode.FORBIDDEN, PermissionMessages.denied(permission));
    }

    if (context.getType() === 'rpc') {
      const call = context.switchToRpc().getContext<unknown>();
      const actor = isBusCallContext(call) ? call.actor : undefined;
      if (actorHasPermission(actor, permission)) return true;
      this.logger.warn({ msg: PermissionMessages.deniedLog, permission, handler: context.getHandler().name, actorKind: actor?.kind });
      if (isBusCallContext(call) && actor) await this.recordDenied(call.tenantId, actor, permission, context);
      throw new AppError(
        403,
        ErrorCode.FORBIDDEN,
        PermissionMessages.busDenied(permission, actor ? `${actor.kind} ${actor.id}` : 'none'),
      );
    }
    return true;
  }

  private async recordDenied(tenantId: string, actor: Actor, permission: Permission, context: ExecutionContext): Promise<void> {
    await this.audit?.recordNow({
      tenantId,
      actor,
      action: AuditAction.accessDenied,
      result: 'denied',
      details: { permission, handler: `${context.getClass().name}.${context.getHandler().name}`, via: context.getType() },
    });
  }
}
