import { Injectable, Logger } from '@nestjs/common';
import { InjectConfig, serviceUnavailable, type AuthUser } from '@rallyforge/service-kit';
import { randomUUID } from 'node:crypto';
import type { EntityManager } from 'typeorm';
import { AccountSecurityErrors } from '../account-security.errors';
import { AuthErrors } from '../auth.errors';
import { keyEncryptionKeyFrom, type AuthConfig } from '../config';
import type {
  DisableTwoFactorDto,
  MfaChallengeDto,
  MfaLoginDto,
  RecoveryCodesDto,
  TwoFactorEnrolmentDto,
  TwoFactorStatusDto,
} from '../dtos/account-security.dto';
import type { TokenPairDto } from '../dtos/auth.dto';
import type { MfaMethod } from '../entities/login-history.entity';
import type { UserMfaEntity } from '../entities/user-mfa.entity';
import type { UserEntity } from '../entities/user.entity';
import { MfaChallengeRepository, type MfaChallenge } from '../repositories/mfa-challenge.repository';
import { OrganisationRepository } from '../repositories/organisation.repository';
import { TransactionRepository } from '../repositories/transaction.repository';
import { UserMfaRepository } from '../repositories/user-mfa.repository';
import { UserRepository } from '../repositories/user.repository';
import type { ClientInfo } from '../utils/client-info';
import { decryptSecret, DEVELOPMENT_KEY_ENCRYPTION_KEY, encryptSecret } from '../utils/key-encryption';
import { createRecoveryCodes, hashRecoveryCode, normaliseRecoveryCode } from '../utils/recovery-codes';
import { base32Encode, createTotpSecret, matchTotp, otpauthUri } from '../utils/totp';
import { LoginHistoryService } from './login-history.service';
import { LoginProtectionService } from './login-protection.service';
import { PasswordHasherService } from './password-hasher.service';
import { SecurityEventsService } from './security-events.service';
import { TokenService } from './token.service';

export const TwoFactorMessages = {
  challenged: 'Asked for a second factor',
  loggedIn: 'Logged a user in with a second factor',
  codeRefused: 'Refused a second-factor code',
  challengeStoreFailed: 'Two-factor challenges are unavailable (Redis)',
} as const;

const TOTP_CODE = /^\d{6}$/;

/** What the locked code check inside a transaction decided. */
type CodeCheck = { kind: 'ok'; method: MfaMethod } | { kind: 'wrong' };
type MfaLoginOutcome = { kind: 'ok'; user: UserEntity; method: MfaMethod } | { kind: 'wrong' } | { kind: 'gone' } | { kind: 'suspended' };

/**
 * TOTP two-factor authentication (RFC 6238): enrol → confirm (only then enabled) → required at every login →
 * disable with password and code. Ten single-use recovery codes, stored hashed, shown once. The secret is sealed
 * with the signing keys' envelope (AES-256-GCM under AUTH_KEY_ENCRYPTION_KEY), bound to tenant and user.
 */
@Injectable()
export class TwoFactorService {
  private readonly logger = new Logger(TwoFactorService.name);
  private readonly kek: Buffer;
  private readonly issuer: string;
  private readonly challengeTtlSeconds: number;

  constructor(
    private readonly transactions: TransactionRepository,
    private readonly users: UserRepository,
    private readonly organisations: OrganisationRepository,
    private readonly mfa: UserMfaRepository,
    private readonly challenges: MfaChallengeRepository,
    private readonly protection: LoginProtectionService,
    private readonly history: LoginHistoryService,
    private readonly hasher: PasswordHasherService,
    private readonly tokens: TokenService,
    private readonly securityEvents: SecurityEventsService,
    @InjectConfig() config: AuthConfig,
  ) {
    this.kek = keyEncryptionKeyFrom(config) ?? DEVELOPMENT_KEY_ENCRYPTION_KEY;
    this.issuer = config.TOTP_ISSUER;
    this.challengeTtlSeconds = config.MFA_CHALLENGE_TTL_SECONDS;
  }

  async status(caller: AuthUser): Promise<TwoFactorStatusDto> {
    const { tenantId, userId } = caller;
    return this.transactions.inTenant(tenantId, async (m) => {
      const row = await this.mfa.find(m, tenantId, userId);
      const enabled = !!row?.enabledAt;
      return {
        enabled,
        pending: !!row && !enabled,
        recoveryCodesRemaining: enabled ? await this.mfa.countUnusedRecoveryCodes(m, tenantId, userId) : 0,
      };
    });
  }

  /** Starts (or restarts) enrolment: a new secret, not active until confirmed. */
  async enrol(caller: AuthUser): Promise<TwoFactorEnrolmentDto> {
    const { tenantId, userId } = caller;
    const secret = createTotpSecret();
    const user = await this.transactions.inTenant(tenantId, async (m) => {
      const found = await this.users.findById(m, tenantId, userId);
      if (!found) throw AuthErrors.userNotFound();
      const saved = await this.mfa.savePending(m, tenantId, userId, this.seal(tenantId, userId, secret));
      if (!saved) throw AccountSecurityErrors.twoFactorAlreadyEnabled();
      return found;
    });
    return { secret: base32Encode(secret), otpauthUri: otpauthUri({ issuer: this.issuer, account: user.email, secret }) };
  }

  /** Confirms the enrolled authenticator with a current code; enables 2FA and returns the recovery codes (once). */
  async confirm(caller: AuthUser, code: string): Promise<RecoveryCodesDto> {
    const { tenantId, userId } = caller;
    const now = new Date();
    const recoveryCodes = createRecoveryCodes();
    const confirmed = await this.transactions.inTenant(tenantId, async (m) => {
      const row = await this.mfa.find(m, tenantId, userId, true);
      if (!row) throw AccountSecurityErrors.twoFactorNotEnrolled();
      if (row.enabledAt) throw AccountSecurityErrors.twoFactorAlreadyEnabled();
      const step = this.matchTotp(row, code, now);
      if (step === undefined) return false;
      await this.mfa.markUsed(m, tenantId, userId, step, true);
      await this.mfa.replaceRecoveryCodes(m, tenantId, userId, recoveryCodes.map((c) => hashRecoveryCode(userId, normaliseRecoveryCode(c)!)));
      return true;
    });
    if (!confirmed) throw AccountSecurityErrors.invalidTwoFactorCode();
    this.securityEvents.twoFactorEnabled(tenantId, userId);
    return { recoveryCodes };
  }

  /** Replaces every recovery code (the old ones stop working); needs a current authenticator code. */
  async regenerateRecoveryCodes(caller: AuthUser, code: string): Promise<RecoveryCodesDto> {
    const { tenantId, userId } = caller;
    const now = new Date();
    const recoveryCodes = createRecoveryCodes();
    const done = await this.transactions.inTenant(tenantId, async (m) => {
      const row = await this.mfa.find(m, tenantId, userId, true);
      if (!row?.enabledAt) throw AccountSecurityErrors.twoFactorNotEnabled();
      const step = this.matchTotp(row, code, now);
      if (step === undefined) return false;
      await this.mfa.markUsed(m, tenantId, userId, step, false);
      await this.mfa.replaceRecoveryCodes(m, tenantId, userId, recoveryCodes.map((c) => hashRecoveryCode(userId, normaliseRecoveryCode(c)!)));
      return true;
    });
    if (!done) throw AccountSecurityErrors.invalidTwoFactorCode();
    this.securityEvents.recoveryCodesRegenerated(tenantId, userId);
    return { recoveryCodes };
  }

  /**
   * Turns 2FA off: needs the password and a current code (or a recovery code). Wrong answers count toward the login
   * lockout, and a locked account cannot disable it either.
   */
  async disable(caller: AuthUser, dto: DisableTwoFactorDto): Promise<void> {
    const { tenantId, userId } = caller;
    const user = await this.transactions.inTenant(tenantId, (m) => this.users.findById(m, tenantId, userId));
    if (!user) throw AuthErrors.userNotFound();
    const locked = await this.protection.lockedFor(tenantId, user.email);
    if (locked !== undefined) throw AccountSecurityErrors.loginLocked(locked);
    const passwordOk = await this.hasher.verify(user.passwordHash, dto.password);
    const now = new Date();
    const disabled = await this.transactions.inTenant(tenantId, async (m) => {
      const row = await this.mfa.find(m, tenantId, userId, true);
      if (!row?.enabledAt) throw AccountSecurityErrors.twoFactorNotEnabled();
      // Check (and spend) the code only with the right password: a wrong password must not burn a recovery code.
      if (!passwordOk) return false;
      const check = await this.checkCode(m, row, dto.code, now);
      if (check.kind !== 'ok') return false;
      await this.mfa.remove(m, tenantId, userId);
      return true;
    });
    if (!disabled) {
      await this.protection.recordFailure(tenantId, user.email);
      throw AccountSecurityErrors.reauthenticationFailed();
    }
    this.securityEvents.twoFactorDisabled(tenantId, userId);
  }

  /**
   * Called by the password step once the password is right: for an account with 2FA, a single-use challenge
   * (MFA_CHALLENGE_TTL_SECONDS) instead of tokens; undefined when the account has no 2FA.
   */
  async challengeIfEnabled(user: UserEntity, client: ClientInfo): Promise<MfaChallengeDto | undefined> {
    const { tenantId } = user;
    const enabled = await this.transactions.inTenant(tenantId, (m) => this.mfa.isEnabled(m, tenantId, user.id));
    if (!enabled) return undefined;
    let mfaToken: string;
    try {
      mfaToken = await this.challenges.create({ tenantId, userId: user.id, email: user.email }, this.challengeTtlSeconds);
    } catch (error) {
      this.logger.error({ msg: TwoFactorMessages.challengeStoreFailed, err: error });
      throw serviceUnavailable('Two-factor login is unavailable for a moment; try again shortly');
    }
    this.history.recordLater({ tenantId, userId: user.id, result: 'mfa_required', client });
    this.logger.log({ msg: TwoFactorMessages.challenged, tenantId, userId: user.id });
    return { mfaRequired: true, mfaToken, expiresIn: this.challengeTtlSeconds, methods: ['totp', 'recovery_code'] };
  }

  /** The second step: a live challenge and a TOTP or recovery code → tokens. Wrong codes count toward the lockout. */
  async completeLogin(dto: MfaLoginDto, client: ClientInfo): Promise<TokenPairDto> {
    const challenge = await this.findChallenge(dto.mfaToken);
    if (!challenge) throw AccountSecurityErrors.mfaChallengeInvalid();
    const { tenantId, userId, email, key } = challenge;

    const locked = await this.protection.lockedFor(tenantId, email);
    if (locked !== undefined) {
      await this.challenges.consume(key);
      this.history.recordLater({ tenantId, userId, result: 'locked', client });
      throw AccountSecurityErrors.loginLocked(locked);
    }

    const now = new Date();
    const outcome = await this.transactions.inTenant(tenantId, async (m): Promise<MfaLoginOutcome> => {
      const user = await this.users.findById(m, tenantId, userId);
      const organisation = await this.organisations.findById(m, tenantId);
      if (!user || !organisation) return { kind: 'gone' };
      if (organisation.suspended) return { kind: 'suspended' };
      const row = await this.mfa.find(m, tenantId, userId, true);
      // 2FA was turned off since the password step: the challenge no longer stands for anything.
      if (!row?.enabledAt) return { kind: 'gone' };
      const check = await this.checkCode(m, row, dto.code, now);
      return check.kind === 'ok' ? { kind: 'ok', user, method: check.method } : { kind: 'wrong' };
    });

    switch (outcome.kind) {
      case 'gone':
        await this.challenges.consume(key);
        throw AccountSecurityErrors.mfaChallengeInvalid();
      case 'suspended':
        await this.challenges.consume(key);
        throw AuthErrors.organisationSuspended();
      case 'wrong': {
        await this.protection.recordFailure(tenantId, email);
        const failures = await this.challenges.recordFailure(key);
        if (failures >= this.protection.maxLoginFailures) await this.challenges.consume(key);
        this.history.recordLater({ tenantId, userId, result: 'mfa_failed', client });
        this.logger.log({ msg: TwoFactorMessages.codeRefused, tenantId, userId });
        throw AccountSecurityErrors.invalidMfaCode();
      }
      case 'ok':
        break;
    }

    // Only the request that deletes the challenge gets tokens (two concurrent valid codes: one wins).
    if (!(await this.challenges.consume(key))) throw AccountSecurityErrors.mfaChallengeInvalid();
    await this.protection.reset(tenantId, email);
    const { user, method } = outcome;
    const { pair, remaining } = await this.transactions.inTenant(tenantId, async (m) => {
      const sessionId = randomUUID();
      const issued = await this.tokens.issuePair(m, user, sessionId, now, client);
      await this.history.record(m, { tenantId, userId, result: 'success', mfaMethod: method, sessionId, client, at: now });
      const left = method === 'recovery_code' ? await this.mfa.countUnusedRecoveryCodes(m, tenantId, userId) : undefined;
      return { pair: issued, remaining: left };
    });
    if (remaining !== undefined) this.securityEvents.recoveryCodeUsed(tenantId, userId, remaining, client);
    this.logger.log({ msg: TwoFactorMessages.loggedIn, tenantId, userId, method });
    return pair;
  }

  /** Checks a TOTP code (6 digits) or a recovery code against the locked row, spending it when it is right. */
  private async checkCode(m: EntityManager, row: UserMfaEntity, code: string, now: Date): Promise<CodeCheck> {
    const compact = code.replace(/\s/g, '');
    if (TOTP_CODE.test(compact)) {
      const step = this.matchTotp(row, compact, now);
      if (step === undefined) return { kind: 'wrong' };
      await this.mfa.markUsed(m, row.tenantId, row.userId, step, false);
      return { kind: 'ok', method: 'totp' };
    }
    const canonical = normaliseRecoveryCode(code);
    if (!canonical) return { kind: 'wrong' };
    const spent = await this.mfa.consumeRecoveryCode(m, row.tenantId, row.userId, hashRecoveryCode(row.userId, canonical), now);
    return spent ? { kind: 'ok', method: 'recovery_code' } : { kind: 'wrong' };
  }

  /** The step of a valid, not yet used TOTP code (±1 step), or undefined. */
  private matchTotp(row: UserMfaEntity, code: string, now: Date): number | undefined {
    const secret = decryptSecret(row.secretEncrypted, this.kek, associatedData(row.tenantId, row.userId));
    return matchTotp(secret, code.replace(/\s/g, ''), Math.floor(now.getTime() / 1000), { lastUsedStep: row.lastUsedStep });
  }

  private seal(tenantId: string, userId: string, secret: Buffer): Buffer {
    return encryptSecret(secret, this.kek, associatedData(tenantId, userId));
  }

  private async findChallenge(token: string): Promise<(MfaChallenge & { key: string }) | undefined> {
    try {
      return await this.challenges.find(token);
    } catch (error) {
      this.logger.error({ msg: TwoFactorMessages.challengeStoreFailed, err: error });
      throw serviceUnavailable('Two-factor login is unavailable for a moment; try again shortly');
    }
  }
}

/** Binds a sealed secret to its row: copied onto another user, it no longer decrypts. */
function associatedData(tenantId: string, userId: string): string {
  return `totp:${tenantId}:${userId}`;
}
