import { Controller, Get, Injectable, Module } from '@nestjs/common';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { createLocalJWKSet, exportJWK, generateKeyPair, SignJWT, type JWTVerifyGetKey, type KeyLike } from 'jose';
import { TokenIssuer } from '../../test/token-issuer';
import { baseConfigSchema } from '../config/base-config.schema';
import { loadConfig } from '../config/load-config';
import { bootstrapService } from '../http/bootstrap-service';
import { ServiceKitModule } from '../service-kit.module';
import type { ServiceKitModuleOptions } from '../service-kit.options';
import type { AuthUser } from './auth-user';
import { CurrentUser } from './auth.decorators';

@Controller('me')
class MeController {
  @Get()
  me(@CurrentUser() user: AuthUser): AuthUser {
    return user;
  }
}

/** What the auth service does: verify with the keys it holds, no HTTP round trip to itself. */
@Injectable()
class LocalSigningKeys {
  static privateKey: KeyLike;
  static resolver: JWTVerifyGetKey;
  readonly resolveKey: JWTVerifyGetKey = (header, token) => LocalSigningKeys.resolver(header, token);
}

@Module({ providers: [LocalSigningKeys], exports: [LocalSigningKeys] })
class LocalSigningKeysModule {}

const settings = { PORT: '0', HOST: '127.0.0.1', LOG_LEVEL: 'silent' };

async function start(kit: Omit<ServiceKitModuleOptions, 'name'>, env: Record<string, string>): Promise<NestFastifyApplication> {
  @Module({ imports: [ServiceKitModule.forRoot({ name: 'me', ...kit })], controllers: [MeController] })
  class MeModule {}
  const schema = baseConfigSchema
    .omit({ DATABASE_URL: true, REDIS_URL: true, AMQP_URL: true })
    .extend({ AUTH_JWKS_URL: baseConfigSchema.shape.AUTH_JWKS_URL.optional() });
  const config = loadConfig(schema, { ...settings, ...env });
  return bootstrapService({ name: 'me', module: MeModule, config, handleSignals: false });
}

const urlOf = async (app: NestFastifyApplication) => `${(await app.getUrl()).replace('[::1]', '127.0.0.1')}/api/v1/me`;

describe('JwtAuthGuard key sources', () => {
  it('verifies with a local key set given through auth.keyResolver (the auth service)', async () => {
    const { publicKey, privateKey } = await generateKeyPair('EdDSA', { crv: 'Ed25519' });
    LocalSigningKeys.resolver = createLocalJWKSet({ keys: [{ ...(await exportJWK(publicKey)), kid: 'k1', alg: 'EdDSA' }] });
    const app = await start(
      {
        auth: {
          keyResolver: {
            imports: [LocalSigningKeysModule],
            inject: [LocalSigningKeys],
            useFactory: (keys: LocalSigningKeys) => keys.resolveKey,
          },
        },
      },
      {},
    );
    try {
      const token = await new SignJWT({ tid: 'tenant-9', roles: ['owner'] })
        .setProtectedHeader({ alg: 'EdDSA', kid: 'k1' })
        .setSubject('user-9')
        .setIssuer('rallyforge-auth')
        .setAudience('rallyforge')
        .setExpirationTime('5m')
        .sign(privateKey);
      const response = await fetch(await urlOf(app), { headers: { authorization: `Bearer ${token}` } });
      expect(response.status).toBe(200);
      expect(await response.json()).toEqual({ userId: 'user-9', tenantId: 'tenant-9', roles: ['owner'] });
    } finally {
      await app.close();
    }
  });

  it('fetches the remote JWKS once and caches it', async () => {
    const issuer = await TokenIssuer.start();
    const app = await start({}, { AUTH_JWKS_URL: issuer.jwksUrl });
    try {
      for (let i = 0; i < 3; i++) {
        const response = await fetch(await urlOf(app), { headers: { authorization: `Bearer ${await issuer.sign()}` } });
        expect(response.status).toBe(200);
      }
      expect(issuer.requests.count).toBe(1);
    } finally {
      await app.close();
      await issuer.close();
    }
  });

  it('answers 503 (not 401) when the JWKS cannot be fetched, so an auth outage does not log users out', async () => {
    const issuer = await TokenIssuer.start();
    const token = await issuer.sign();
    await issuer.close();
    const app = await start({}, { AUTH_JWKS_URL: issuer.jwksUrl });
    try {
      const response = await fetch(await urlOf(app), { headers: { authorization: `Bearer ${token}` } });
      expect(response.status).toBe(503);
      expect(await response.json()).toMatchObject({ code: 'SERVICE_UNAVAILABLE', message: 'Token keys are temporarily unavailable' });
    } finally {
      await app.close();
    }
  });

  it('refuses to start without AUTH_JWKS_URL or a key resolver, saying which', async () => {
    await expect(start({}, {})).rejects.toThrow(/AUTH_JWKS_URL is not configured/);
  });
});
