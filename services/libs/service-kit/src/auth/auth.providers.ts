import type { FactoryProvider, InjectionToken, ModuleMetadata, Provider } from '@nestjs/common';
import { createRemoteJWKSet, type JWTVerifyGetKey } from 'jose';
import type { KitConfig } from '../config/base-config.schema';
import { SERVICE_CONFIG } from '../config/service-config.module';
import { AccessTokenVerifier } from './access-token.verifier';

/** Token of the key resolver the verifier uses; the auth service overrides it with its local key set. */
export const JWKS_KEY_RESOLVER = Symbol.for('rallyforge.service-kit.jwksKeyResolver');

export const JWKS_FETCH_TIMEOUT_MS = 5000;
/** After a fetch (or an unknown kid), wait at least this long before fetching again. */
export const JWKS_COOLDOWN_MS = 30_000;
/** Keys are refetched at most this old, so a rotated-out key stops being accepted. */
export const JWKS_CACHE_MAX_AGE_MS = 10 * 60_000;

/** How a service replaces the remote JWKS (the auth service verifies against its own keys). */
export interface KeyResolverOptions {
  useFactory: (...args: never[]) => JWTVerifyGetKey | Promise<JWTVerifyGetKey>;
  inject?: InjectionToken[];
  /** Modules that export what `inject` names. */
  imports?: ModuleMetadata['imports'];
}

export function keyResolverProvider(override?: KeyResolverOptions): Provider {
  if (override) {
    return {
      provide: JWKS_KEY_RESOLVER,
      useFactory: override.useFactory as FactoryProvider['useFactory'],
      inject: override.inject ?? [],
    };
  }
  return {
    provide: JWKS_KEY_RESOLVER,
    inject: [SERVICE_CONFIG],
    useFactory: (config: KitConfig): JWTVerifyGetKey => {
      if (!config.AUTH_JWKS_URL) {
        throw new Error(
          'AUTH_JWKS_URL is not configured: set it, or give ServiceKitModule.forRoot({ auth: { keyResolver } }) a local key set',
        );
      }
      return createRemoteJWKSet(new URL(config.AUTH_JWKS_URL), {
        timeoutDuration: JWKS_FETCH_TIMEOUT_MS,
        cooldownDuration: JWKS_COOLDOWN_MS,
        cacheMaxAge: JWKS_CACHE_MAX_AGE_MS,
      });
    },
  };
}

export const accessTokenVerifierProvider: Provider = {
  provide: AccessTokenVerifier,
  inject: [JWKS_KEY_RESOLVER, SERVICE_CONFIG],
  useFactory: (getKey: JWTVerifyGetKey, config: KitConfig) =>
    new AccessTokenVerifier({ getKey, issuer: config.AUTH_ISSUER, audience: config.AUTH_AUDIENCE }),
};
