import { Commands, PLATFORM_TENANT } from '@rallyforge/contracts';
import { loadSecrets, servicePassword } from '../infra/config';

export interface DemoAccount {
  organisation: string;
  email: string;
  password: string;
}

export const DEMO_ORGANISATION = 'demo';
export const DEMO_EMAIL = 'veteran@demo.rallyforge.local';

/**
 * Seeds the demo organisation the way the operator provisions tenants (the `auth.organisation.upsert` command,
 * request/reply over the bus) and registers the demo user through the public API. Idempotent.
 */
export async function seedDemo(gatewayUrl: string, amqpUrl: string, options: { viaOperator?: boolean } = {}): Promise<DemoAccount> {
  // With the local control plane, the operator has registered the organisation from k8s/samples/demo-tenant.yaml.
  if (!options.viaOperator) await upsertOrganisation(amqpUrl, DEMO_ORGANISATION, 'Demo Veterans Service Organisation');
  // A generated, remembered password that meets the policy (upper case, digit, special character).
  const password = `Demo-${servicePassword(loadSecrets(), 'demo-user-password')}-7!`;
  const res = await fetch(`${gatewayUrl}/api/v1/auth/register`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ organisation: DEMO_ORGANISATION, email: DEMO_EMAIL, password, displayName: 'Demo Veteran' }),
  });
  if (!res.ok && res.status !== 409) {
    throw new Error(`Registering the demo user failed: ${res.status} ${await res.text()}`);
  }
  return { organisation: DEMO_ORGANISATION, email: DEMO_EMAIL, password };
}

/** Creates or updates an open-registration organisation through auth's bus command, as the operator does. */
export async function upsertOrganisation(amqpUrl: string, tenantId: string, displayName: string): Promise<void> {
  // Quiet: the bus logs through Nest's console logger by default, which would interleave with up's output.
  const quiet = { log: () => undefined, error: () => undefined, warn: () => undefined };
  // Loaded lazily: on a fresh clone the bus library is built by `up` after this module was loaded.
  const { BusClient } = await import('@rallyforge/bus');
  const client = new BusClient({ url: amqpUrl, service: 'rallyforge-up', logger: quiet });
  try {
    await client.connect();
    await client.request(
      Commands.upsertOrganisation,
      { tenantId, displayName, registration: 'open', admins: [], suspended: false },
      { tenantId: PLATFORM_TENANT, actor: { kind: 'service', id: 'rallyforge-up', roles: [] }, timeoutMs: 15_000 },
    );
  } finally {
    await client.close();
  }
}
