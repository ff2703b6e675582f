/**
 * Registration with auth over the bus (request/reply), as the tenancy contract says: the operator asks auth to
 * create or update the organisation and invite its admins, and records the answer in the Identity condition.
 */
import { BusClient } from '@rallyforge/bus';
import { Commands, findContract, PLATFORM_TENANT, type MessageContract } from '@rallyforge/contracts';
import { LayerError, REGISTRATION_INVALID, type IdentityRegistrar, type OrganisationRegistration } from './layers';

const OPERATOR_ACTOR = { kind: 'service' as const, id: 'rallyforge-operator', roles: [] as string[] };
const DEPROVISION_TYPE = 'auth.organisation.deprovision';

export interface BusIdentityOptions {
  amqpUrl: string;
  /** @default 15 s */
  timeoutMs?: number;
  logger?: { log(message: unknown): void; error(message: unknown): void; warn(message: unknown): void };
}

export class BusIdentityRegistrar implements IdentityRegistrar {
  private readonly client: BusClient;
  private readonly timeoutMs: number;

  constructor(options: BusIdentityOptions) {
    const quiet = { log: () => undefined, error: () => undefined, warn: () => undefined };
    this.client = new BusClient({ url: options.amqpUrl, service: 'rallyforge-operator', logger: options.logger ?? quiet });
    this.timeoutMs = options.timeoutMs ?? 15_000;
  }

  async register(organisation: OrganisationRegistration, signal?: AbortSignal): Promise<string> {
    signal?.throwIfAborted();
    const payload: Record<string, unknown> = {
      tenantId: organisation.tenantId,
      displayName: organisation.displayName,
      registration: organisation.registration,
      admins: organisation.admins,
      suspended: organisation.suspended,
    };
    // Application limits travel only when auth's contract knows them (older auth versions refuse unknown fields).
    if (organisation.limits && 'limits' in (Commands.upsertOrganisation.schema as unknown as { shape: Record<string, unknown> }).shape) {
      payload.limits = organisation.limits;
    }
    const reply = await this.call<{ created: boolean; invited: string[] }>(Commands.upsertOrganisation, payload, organisation.tenantId);
    const invited = reply.invited?.length ? `; invitations pending for ${reply.invited.length} admin(s)` : '';
    return `Organisation ${organisation.tenantId} registered in auth (registration ${organisation.registration}${organisation.suspended ? ', suspended' : ''})${invited}.`;
  }

  async deprovision(tenantId: string, mode: 'retain' | 'delete', signal?: AbortSignal): Promise<string> {
    signal?.throwIfAborted();
    const contract = findContract(DEPROVISION_TYPE, 1);
    if (!contract) {
      throw new LayerError('DeprovisionUnsupported', `auth has no ${DEPROVISION_TYPE} command in this version: the organisation ${tenantId} was left in auth.`);
    }
    await this.call(contract, { tenantId, mode }, tenantId);
    return `Organisation ${tenantId} ${mode === 'delete' ? 'deleted' : 'locked'} in auth.`;
  }

  private async call<T>(contract: MessageContract, payload: unknown, tenantId: string): Promise<T> {
    try {
      return await this.client.request<T>(contract, payload as never, { tenantId: PLATFORM_TENANT, actor: OPERATOR_ACTOR, timeoutMs: this.timeoutMs });
    } catch (error) {
      const name = (error as Error)?.name ?? '';
      const message = (error as Error)?.message ?? String(error);
      if (name.includes('Timeout')) {
        throw new LayerError('AuthTimeout', `auth did not answer ${contract.type} for ${tenantId} within ${this.timeoutMs / 1000} s: is the auth service running and consuming from RabbitMQ?`, { cause: error });
      }
      if (name === 'BusValidationError') {
        throw new LayerError(
          REGISTRATION_INVALID,
          `The spec of tenant ${tenantId} cannot be sent to auth as ${contract.type}: ${message}. Fix the RallyForgeTenant's spec; nothing was sent to auth.`,
          { cause: error },
        );
      }
      if (name === 'BusCommandFailedError') {
        throw new LayerError('RegistrationRejected', `auth refused ${contract.type} for ${tenantId}: ${message}`, { cause: error });
      }
      throw new LayerError('AuthUnavailable', `${contract.type} for ${tenantId} could not be sent over the bus: ${message}`, { cause: error });
    }
  }

  async close(): Promise<void> {
    await this.client.close();
  }
}
