import { Type } from 'class-transformer';
import { IsString, MaxLength, ValidateNested } from 'class-validator';
import { AppError } from '../errors/app-error';
import { createValidationPipe } from './validation';

class AddressDto {
  @IsString()
  @MaxLength(10)
  zip!: string;
}

class CreateClaimDto {
  @IsString()
  title!: string;

  @ValidateNested()
  @Type(() => AddressDto)
  address!: AddressDto;
}

describe('createValidationPipe', () => {
  const pipe = createValidationPipe();
  const metadata = { type: 'body' as const, metatype: CreateClaimDto };

  it('returns a DTO instance for a valid body', async () => {
    const value = await pipe.transform({ title: 'Knee', address: { zip: '12345' } }, metadata);
    expect(value).toBeInstanceOf(CreateClaimDto);
  });

  it('rejects unknown fields and reports nested paths as VALIDATION_FAILED', async () => {
    const error = await pipe
      .transform({ title: 7, address: { zip: 'far too long a zip' }, isAdmin: true }, metadata)
      .catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(AppError);
    expect(error).toMatchObject({ status: 400, code: 'VALIDATION_FAILED' });
    expect((error as AppError).message).toBe(
      'property isAdmin should not exist; title must be a string; address.zip must be shorter than or equal to 10 characters',
    );
  });
});
