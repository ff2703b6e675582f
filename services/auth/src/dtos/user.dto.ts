import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { USER_ROLES, type UserRole } from '../entities/user.entity';

export class OrganisationSummaryDto {
  @ApiProperty({ example: 'demo' })
  id!: string;

  @ApiProperty({ example: 'Demo Veterans Association' })
  displayName!: string;
}

export class SubscriptionDto {
  @ApiProperty({ enum: ['none', 'active'] })
  status!: 'none' | 'active';

  @ApiPropertyOptional({ example: 'premium-monthly' })
  planId?: string;

  @ApiPropertyOptional({ format: 'date-time' })
  currentPeriodEnd?: string;
}

/** The caller's account, as `POST /register` and `GET /me` return it. */
export class UserResponseDto {
  @ApiProperty({ format: 'uuid' })
  id!: string;

  @ApiProperty()
  email!: string;

  @ApiProperty({ description: 'The user proved the address (verification link, invitation or password reset)' })
  emailVerified!: boolean;

  @ApiProperty({ type: String, nullable: true })
  displayName!: string | null;

  @ApiProperty({ enum: USER_ROLES })
  role!: UserRole;

  @ApiProperty({ enum: USER_ROLES, isArray: true, description: 'The roles claim of the access token' })
  roles!: string[];

  @ApiProperty({ type: OrganisationSummaryDto })
  organisation!: OrganisationSummaryDto;
}

export class MeResponseDto extends UserResponseDto {
  @ApiProperty({ type: SubscriptionDto })
  subscription!: SubscriptionDto;
}

export class JwkDto {
  @ApiProperty({ example: 'OKP' })
  kty!: string;

  @ApiProperty({ example: 'Ed25519' })
  crv!: string;

  @ApiProperty()
  x!: string;

  @ApiProperty()
  kid!: string;

  @ApiProperty({ example: 'EdDSA' })
  alg!: string;

  @ApiProperty({ example: 'sig' })
  use!: string;
}

export class JwksDto {
  @ApiProperty({ type: JwkDto, isArray: true })
  keys!: JwkDto[];
}
