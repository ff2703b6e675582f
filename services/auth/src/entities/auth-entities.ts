import { InvitationEntity } from './invitation.entity';
import { LoginHistoryEntity } from './login-history.entity';
import { MfaRecoveryCodeEntity } from './mfa-recovery-code.entity';
import { OrganisationEntity } from './organisation.entity';
import { RefreshTokenEntity } from './refresh-token.entity';
import { SessionEntity } from './session.entity';
import { SigningKeyEntity } from './signing-key.entity';
import { SubscriptionEntity } from './subscription.entity';
import { UserEntity } from './user.entity';
import { UserMfaEntity } from './user-mfa.entity';
import { UserTokenEntity } from './user-token.entity';

export const AUTH_ENTITIES = [
  OrganisationEntity,
  UserEntity,
  RefreshTokenEntity,
  SigningKeyEntity,
  InvitationEntity,
  SubscriptionEntity,
  UserMfaEntity,
  MfaRecoveryCodeEntity,
  SessionEntity,
  LoginHistoryEntity,
  UserTokenEntity,
];
