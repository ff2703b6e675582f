/** JSON Schema fragments shared by the charts' values. */
import { JsonSchema } from './helm-values';

/** A Kubernetes resource quantity (`250m`, `1`, `512Mi`, `10Gi`). */
export const QUANTITY: JsonSchema = {
  anyOf: [
    { type: 'string', pattern: '^[0-9]+(\\.[0-9]+)?(m|k|M|G|T|P|E|Ki|Mi|Gi|Ti|Pi|Ei)?$' },
    { type: 'number', minimum: 0 },
  ],
};

/** The `resources` field of a container. */
export const RESOURCES: JsonSchema = {
  additionalProperties: false,
  properties: {
    requests: { type: 'object', additionalProperties: QUANTITY },
    limits: { type: 'object', additionalProperties: QUANTITY },
  },
};

/** A Kubernetes object name (DNS-1123 subdomain). */
export const DNS_SUBDOMAIN: JsonSchema = { pattern: '^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$', maxLength: 253 };

/** A DNS-1123 label, or empty. */
export const DNS_LABEL_OR_EMPTY: JsonSchema = { pattern: '^([a-z0-9]([-a-z0-9]*[a-z0-9])?)?$', maxLength: 63 };

/** A key of a Secret or ConfigMap. */
export const DATA_KEY: JsonSchema = { pattern: '^[-._a-zA-Z0-9]+$', maxLength: 253 };

/** A map of label or annotation strings. */
export const STRING_MAP: JsonSchema = { additionalProperties: { type: 'string' } };

export const PULL_POLICY: JsonSchema = { enum: ['Always', 'IfNotPresent', 'Never'] };

/** Log levels of the service kit's logger (pino). */
export const LOG_LEVEL: JsonSchema = { enum: ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] };

/** A host name (DNS-1123 subdomain; `*.` wildcard allowed). */
export const HOSTNAME: JsonSchema = { pattern: '^(\\*\\.)?[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$', maxLength: 253 };

/** Image registry host (optionally with port and path). */
export const REGISTRY: JsonSchema = { pattern: '^[a-z0-9]([-a-z0-9.]*[a-z0-9])?(:[0-9]+)?(/[a-z0-9]([-a-z0-9._]*[a-z0-9])?)*$' };

/** Repository path segments below the registry. */
export const REPOSITORY_PATH: JsonSchema = { pattern: '^[a-z0-9]([-a-z0-9._/]*[a-z0-9])?$' };

/** An image tag, or empty for the chart's appVersion. */
export const IMAGE_TAG: JsonSchema = { pattern: '^([A-Za-z0-9_][A-Za-z0-9_.-]{0,127})?$' };

/** A full image reference (`registry/repository:tag` or `@sha256:` digest). */
export const IMAGE_REFERENCE: JsonSchema = { pattern: '^[a-z0-9]([-a-z0-9._/:]*[a-z0-9])?(:[A-Za-z0-9_][A-Za-z0-9_.-]{0,127})?(@sha256:[a-f0-9]{64})?$' };

/** A Prometheus duration (`30s`, `1m`). */
export const PROMETHEUS_DURATION: JsonSchema = { pattern: '^[0-9]+(ms|s|m|h)$' };

/** `env` entries of a container. */
export const ENV_LIST: JsonSchema = {
  items: {
    type: 'object',
    required: ['name'],
    properties: { name: { type: 'string', pattern: '^[-._a-zA-Z][-._a-zA-Z0-9]*$' }, value: { type: 'string' }, valueFrom: { type: 'object' } },
    additionalProperties: false,
  },
};

export function integer(minimum: number, maximum?: number): JsonSchema {
  return maximum === undefined ? { minimum } : { minimum, maximum };
}
