/**
 * The RallyForgeTenant CustomResourceDefinition: the single source of truth of the tenancy API
 * (docs: the tenancy contract, /shared/TENANCY.md). The operator chart installs it from crds/;
 * the operator reads the same constants.
 */
import { ApiObject } from 'cdk8s';
import { Construct } from 'constructs';

export const TENANT_GROUP = 'rallyforge.io';
export const TENANT_VERSION = 'v1alpha1';
export const TENANT_KIND = 'RallyForgeTenant';
export const TENANT_PLURAL = 'rallyforgetenants';
export const TENANT_SINGULAR = 'rallyforgetenant';
export const TENANT_SHORT_NAMES = ['rft'];
export const TENANT_CRD_NAME = `${TENANT_PLURAL}.${TENANT_GROUP}`;

/**
 * Longest tenant id. The id prefixes the namespace (`rf-<id>`), database names
 * (`rf_<id>_documents`, within PostgreSQL's 63 bytes), vhosts and Redis keys, and labels every object
 * of the tenant (`rallyforge.io/tenant`, within 63 characters). The dedicated tenant's own objects are named
 * as the platform's (`rallyforge-documents`) inside its namespace.
 */
export const TENANT_ID_MAX_LENGTH = 40;
/** A DNS-1123 label that starts with a letter (so that it is also a valid SQL identifier part). */
export const TENANT_ID_PATTERN = '^[a-z]([-a-z0-9]*[a-z0-9])?$';

export const TENANT_PHASES = ['Pending', 'Provisioning', 'Ready', 'Suspended', 'Deleting', 'Failed'] as const;
/** Condition types the operator writes, one per isolation layer, plus the overall Ready. */
export const TENANT_CONDITION_TYPES = ['Namespace', 'Database', 'MessageBroker', 'Cache', 'Identity', 'Workloads', 'Ready'] as const;

type Schema = Record<string, unknown>;

const QUANTITY_PATTERN = '^[0-9]+(\\.[0-9]+)?(m|k|M|G|T|P|E|Ki|Mi|Gi|Ti|Pi|Ei)?$';

function str(description: string, extra: Schema = {}): Schema {
  return { type: 'string', description, ...extra };
}
function int(description: string, extra: Schema = {}): Schema {
  return { type: 'integer', description, ...extra };
}
function quantity(description: string): Schema {
  return str(description, { pattern: QUANTITY_PATTERN, maxLength: 32 });
}
function positiveQuantityRule(field: string): Schema {
  return {
    rule: `!has(self.${field}) || (isQuantity(self.${field}) && quantity(self.${field}).isGreaterThan(quantity('0')))`,
    message: `quota.${field} must be a positive Kubernetes quantity`,
  };
}

/** metav1.Condition, as kubebuilder generates it. */
const CONDITION: Schema = {
  type: 'object',
  description: 'One aspect of the tenant\'s state (metav1.Condition): one per isolation layer, plus the overall Ready.',
  required: ['type', 'status', 'reason', 'message', 'lastTransitionTime'],
  properties: {
    type: str(`Condition type: ${TENANT_CONDITION_TYPES.join(', ')}.`, { maxLength: 316, pattern: '^([a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*/)?(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])$' }),
    status: str('True, False or Unknown.', { enum: ['True', 'False', 'Unknown'] }),
    observedGeneration: int('metadata.generation of the tenant this condition was computed from.', { format: 'int64', minimum: 0 }),
    lastTransitionTime: str('When the status last changed.', { format: 'date-time' }),
    reason: str('Machine-readable CamelCase reason for the last transition.', { minLength: 1, maxLength: 1024, pattern: '^[A-Za-z]([A-Za-z0-9_,:]*[A-Za-z0-9_])?$' }),
    message: str('Human-readable details, including what to do about a failure.', { maxLength: 32768 }),
  },
};

const SPEC: Schema = {
  type: 'object',
  description: 'The tenant as its organisation and the platform team describe it.',
  required: ['displayName', 'tier', 'admins'],
  properties: {
    displayName: str('Name of the organisation as users see it (for example a Veterans Service Organisation).', { minLength: 1, maxLength: 100 }),
    tier: str('Isolation tier: shared (pooled: the platform\'s services and databases, row-level security) or dedicated (silo: its own namespace workloads, databases, vhost and Redis user). Immutable.', {
      enum: ['shared', 'dedicated'],
      'x-kubernetes-validations': [{ rule: 'self == oldSelf', message: 'tier is immutable: create a new tenant and migrate its data to change tiers' }],
    }),
    admins: {
      type: 'array',
      description: "E-mail addresses of the organisation's first administrators; auth invites them.",
      minItems: 1,
      maxItems: 20,
      'x-kubernetes-list-type': 'set',
      items: str('E-mail address of an administrator.', { format: 'email', maxLength: 254 }),
    },
    quota: {
      type: 'object',
      description: 'Resource limits of the tenant namespace and per-tenant application limits.',
      properties: {
        cpu: quantity('Total CPU requests in the tenant namespace (ResourceQuota requests.cpu), for example "4".'),
        memory: quantity('Total memory requests in the tenant namespace (ResourceQuota requests.memory), for example "8Gi".'),
        pods: int('Most pods in the tenant namespace.', { minimum: 1, maximum: 10000 }),
        storage: quantity('Total PersistentVolumeClaim storage in the tenant namespace (ResourceQuota requests.storage). Dedicated tier only.'),
        users: int('Most users the organisation may have (enforced by auth).', { minimum: 1, maximum: 10000000 }),
        documentStorageBytes: int('Most bytes of uploaded documents (enforced by documents).', { format: 'int64', minimum: 0 }),
        apiRequestsPerMinute: int('Rate limit of the organisation\'s API requests per minute (enforced by every service).', { minimum: 1, maximum: 1000000 }),
      },
      'x-kubernetes-validations': [
        positiveQuantityRule('cpu'),
        positiveQuantityRule('memory'),
        positiveQuantityRule('storage'),
        {
          rule: "!has(self.memory) || !has(self.pods) || !isQuantity(self.memory) || quantity(self.memory).asApproximateFloat() >= double(self.pods) * 67108864.0",
          message: 'quota.memory must allow at least 64Mi per pod of quota.pods: lower quota.pods or raise quota.memory',
        },
        {
          rule: '!has(self.storage) || !has(self.documentStorageBytes) || !isQuantity(self.storage) || quantity(self.storage).asApproximateFloat() >= double(self.documentStorageBytes)',
          message: 'quota.documentStorageBytes cannot exceed quota.storage: the documents live on the tenant\'s volumes',
        },
      ],
    },
    deletionPolicy: str('What deleting the tenant does to its data: Retain keeps the database, vhost and Redis data and disables their logins; Delete removes them.', {
      enum: ['Retain', 'Delete'],
      default: 'Retain',
    }),
    network: {
      type: 'object',
      description: "Network access to the tenant's workloads beyond the ingress controller, monitoring and the platform.",
      properties: {
        allowedNamespaces: {
          type: 'array',
          description: "Namespaces whose pods may connect to the tenant's workloads.",
          maxItems: 50,
          'x-kubernetes-list-type': 'set',
          items: str('Namespace name.', { pattern: '^[a-z0-9]([-a-z0-9]*[a-z0-9])?$', maxLength: 63 }),
        },
      },
    },
    suspend: { type: 'boolean', description: 'Stop serving the tenant (logins refused, dedicated workloads scaled to zero) without deleting anything.', default: false },
    registration: str('How users join the organisation: invite (only invited users) or open (anyone may register, as veterans do with their service organisation).', {
      enum: ['invite', 'open'],
      default: 'invite',
    }),
  },
  'x-kubernetes-validations': [
    {
      rule: "self.tier == 'dedicated' || !has(self.quota) || !has(self.quota.storage)",
      message: 'quota.storage applies to the dedicated tier only: shared tenants have no volumes of their own',
    },
  ],
};

const STATUS: Schema = {
  type: 'object',
  description: 'What the operator observed and did. Written by the operator only.',
  properties: {
    phase: str(`Summary of the tenant's lifecycle: ${TENANT_PHASES.join(', ')}.`, { enum: [...TENANT_PHASES] }),
    observedGeneration: int('metadata.generation the status reflects.', { format: 'int64', minimum: 0 }),
    conditions: {
      type: 'array',
      description: 'One condition per isolation layer (Namespace, Database, MessageBroker, Cache, Identity, Workloads) and the overall Ready.',
      maxItems: 32,
      'x-kubernetes-list-type': 'map',
      'x-kubernetes-list-map-keys': ['type'],
      items: CONDITION,
    },
    namespace: str('The tenant namespace (rf-<id>).', { maxLength: 63 }),
    credentialsSecret: {
      type: 'object',
      description: "The Secret with the tenant's connection strings (<SERVICE>_DATABASE_URL, AMQP_URL, REDIS_URL), each with the tenant's own user.",
      required: ['namespace', 'name'],
      properties: {
        namespace: str('Namespace of the Secret.', { maxLength: 63 }),
        name: str('Name of the Secret.', { maxLength: 253 }),
      },
    },
  },
};

/** The CRD manifest. */
export function tenantCustomResourceDefinition(): Record<string, unknown> {
  return {
    apiVersion: 'apiextensions.k8s.io/v1',
    kind: 'CustomResourceDefinition',
    metadata: { name: TENANT_CRD_NAME },
    spec: {
      group: TENANT_GROUP,
      scope: 'Cluster',
      names: { kind: TENANT_KIND, listKind: `${TENANT_KIND}List`, plural: TENANT_PLURAL, singular: TENANT_SINGULAR, shortNames: TENANT_SHORT_NAMES, categories: ['rallyforge'] },
      versions: [
        {
          name: TENANT_VERSION,
          served: true,
          storage: true,
          subresources: { status: {} },
          additionalPrinterColumns: [
            { name: 'Tier', type: 'string', jsonPath: '.spec.tier', description: 'Isolation tier.' },
            { name: 'Phase', type: 'string', jsonPath: '.status.phase', description: 'Lifecycle phase.' },
            { name: 'Ready', type: 'string', jsonPath: '.status.conditions[?(@.type=="Ready")].status', description: 'Whether every layer is ready.' },
            { name: 'Namespace', type: 'string', jsonPath: '.status.namespace', description: 'Tenant namespace.' },
            { name: 'Age', type: 'date', jsonPath: '.metadata.creationTimestamp' },
          ],
          schema: {
            openAPIV3Schema: {
              type: 'object',
              description: 'RallyForgeTenant is one organisation served by RallyForge; the operator turns it into isolated resources. metadata.name is the tenant id.',
              required: ['spec'],
              properties: {
                apiVersion: str('APIVersion defines the versioned schema of this representation of an object.'),
                kind: str('Kind is a string value representing the REST resource this object represents.'),
                // The API server allows no more than the type here (the root description covers it).
                metadata: { type: 'object' },
                spec: SPEC,
                status: STATUS,
              },
              'x-kubernetes-validations': [
                {
                  rule: `self.metadata.name.size() <= ${TENANT_ID_MAX_LENGTH}`,
                  message: `the tenant id (metadata.name) must be at most ${TENANT_ID_MAX_LENGTH} characters: it prefixes namespaces, database names and vhosts`,
                },
                {
                  rule: `self.metadata.name.matches('${TENANT_ID_PATTERN}')`,
                  message: 'the tenant id (metadata.name) must start with a letter and contain only lowercase letters, digits and dashes',
                },
              ],
            },
          },
        },
      ],
    },
  };
}

/** The CRD as a cdk8s object (the operator chart moves it to crds/). */
export class RallyForgeTenantDefinition extends ApiObject {
  public constructor(scope: Construct, id: string) {
    const { apiVersion, kind, ...rest } = tenantCustomResourceDefinition() as { apiVersion: string; kind: string };
    super(scope, id, { apiVersion, kind, ...rest });
  }
}
