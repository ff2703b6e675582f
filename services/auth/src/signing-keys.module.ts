import { Module } from '@nestjs/common';
import { SigningKeyRepository } from './repositories/signing-key.repository';
import { TransactionRepository } from './repositories/transaction.repository';
import { SigningKeyService } from './services/signing-key.service';

/**
 * The signing keys on their own, so that the service kit can import them to build its key resolver: auth's
 * JwtAuthGuard verifies tokens against these keys in-process, never over HTTP to its own JWKS.
 */
@Module({
  providers: [TransactionRepository, SigningKeyRepository, SigningKeyService],
  exports: [TransactionRepository, SigningKeyRepository, SigningKeyService],
})
export class SigningKeysModule {}
