import { ExecutionContext, SetMetadata, createParamDecorator } from '@nestjs/common';
import type { FastifyRequest } from 'fastify';
import type { AuthUser } from './auth-user';

export const IS_PUBLIC_KEY = 'rallyforge:public';
export const ROLES_KEY = 'rallyforge:roles';

/** Lets a route (or a whole controller) be called without a bearer token. */
export const Public = (): MethodDecorator & ClassDecorator => SetMetadata(IS_PUBLIC_KEY, true);

/** The caller needs at least one of `roles` (checked by JwtAuthGuard, after authentication). */
export const Roles = (...roles: string[]): MethodDecorator & ClassDecorator => SetMetadata(ROLES_KEY, roles);

/** The request's authenticated user; undefined on @Public() routes. */
export type AuthenticatedRequest = FastifyRequest & { user?: AuthUser };

/** `handler(@CurrentUser() user: AuthUser)` */
export const CurrentUser = createParamDecorator(
  (_data: unknown, context: ExecutionContext): AuthUser | undefined =>
    context.switchToHttp().getRequest<AuthenticatedRequest>().user,
);
