import { hkdfSync } from 'node:crypto';
import { decryptSecret, encryptSecret } from './key-encryption';

/**
 * E-mail tokens cross the outbox and the broker on their way to the mail consumer. They are sealed with AES-256-GCM
 * under a key derived (HKDF-SHA-256) from AUTH_KEY_ENCRYPTION_KEY, so a row of `bus_outbox`, a message in RabbitMQ or a
 * parked message never holds a usable token. The associated data binds the seal to one tenant, purpose and
 * recipient: a sealed token copied into a message for another address does not open.
 */
const SEAL_INFO = 'rallyforge-auth/mail-token-seal/v1';

export interface SealContext {
  tenantId: string;
  template: string;
  to: string;
}

export class TokenSealer {
  private readonly key: Buffer;

  constructor(keyEncryptionKey: Buffer) {
    this.key = Buffer.from(hkdfSync('sha256', keyEncryptionKey, Buffer.alloc(0), SEAL_INFO, 32));
  }

  seal(token: string, context: SealContext): string {
    return encryptSecret(Buffer.from(token, 'utf8'), this.key, associatedData(context)).toString('base64url');
  }

  /** Throws when the seal was made under another key or for another tenant, purpose or recipient. */
  open(sealed: string, context: SealContext): string {
    return decryptSecret(Buffer.from(sealed, 'base64url'), this.key, associatedData(context)).toString('utf8');
  }
}

function associatedData(context: SealContext): string {
  return `${context.tenantId}\n${context.template}\n${context.to}`;
}
