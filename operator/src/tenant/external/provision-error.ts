import { LayerError } from '../layers';

/**
 * A provisioning or verification failure of one external system, for the tenant's condition: `reason` is CamelCase
 * (`PostgresUnavailable`, `VhostPermissionDrift`), `message` says what failed and what to do about it. It never
 * contains a password.
 */
export class ProvisionError extends LayerError {
  override readonly name = 'ProvisionError';

  constructor(reason: string, message: string, options?: { cause?: unknown }) {
    super(reason, message, options);
  }
}

/** The message of an unknown thrown value, with anything that looks like URL credentials masked. */
export function describeCause(error: unknown): string {
  const message = error instanceof Error ? error.message : String(error);
  return message.replace(/(\w+:\/\/[^:/@\s]*:)[^@\s]*@/g, '$1***@');
}
