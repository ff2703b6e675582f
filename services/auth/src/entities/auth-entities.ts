import { InvitationEntity } from './invitation.entity';
import { OrganisationEntity } from './organisation.entity';
import { RefreshTokenEntity } from './refresh-token.entity';
import { SigningKeyEntity } from './signing-key.entity';
import { SubscriptionEntity } from './subscription.entity';
import { UserEntity } from './user.entity';

export const AUTH_ENTITIES = [
  OrganisationEntity,
  UserEntity,
  RefreshTokenEntity,
  SigningKeyEntity,
  InvitationEntity,
  SubscriptionEntity,
];
