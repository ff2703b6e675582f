import { randomUUID } from 'node:crypto';
import { SERVICES, type InProcessPlatform, type ServiceName } from '../../test/in-process-platform';

/**
 * What the services expose, read from their own OpenAPI documents (GET /api/v1/<service>/docs-json): the hostile
 * suites and the fuzz test iterate over these, so a new endpoint is attacked without anyone remembering to add it,
 * and a suite fails when it meets an endpoint it has no case for.
 */

export const HTTP_METHODS = ['get', 'put', 'post', 'delete', 'patch'] as const;

export interface OpenApiSchema {
  type?: string;
  format?: string;
  enum?: unknown[];
  pattern?: string;
  minLength?: number;
  maxLength?: number;
  minimum?: number;
  maximum?: number;
  items?: OpenApiSchema;
  properties?: Record<string, OpenApiSchema>;
  required?: string[];
  $ref?: string;
  oneOf?: OpenApiSchema[];
  allOf?: OpenApiSchema[];
}

export interface OpenApiParameter {
  name: string;
  in: 'path' | 'query' | 'header' | 'cookie';
  required?: boolean;
  schema?: OpenApiSchema;
}

export interface OpenApiOperation {
  operationId?: string;
  parameters?: OpenApiParameter[];
  requestBody?: { required?: boolean; content: Record<string, { schema?: OpenApiSchema }> };
}

export interface OpenApiDocument {
  paths: Record<string, Partial<Record<(typeof HTTP_METHODS)[number], OpenApiOperation>>>;
  components?: { schemas?: Record<string, OpenApiSchema> };
}

/** One operation of one service, e.g. `GET /api/v1/claims/{id}`. */
export interface ApiOperation {
  readonly service: ServiceName;
  /** Upper case. */
  readonly method: string;
  /** The path template of the document, `{name}` for parameters. */
  readonly path: string;
  /** `GET /api/v1/claims/{id}`: how the tables of the suites name an operation. */
  readonly key: string;
  readonly operation: OpenApiOperation;
  readonly document: OpenApiDocument;
}

/**
 * Operations anyone may call without an access token, each with the reason. Every other documented operation must
 * answer 401 without a valid token (tokens.spec.ts checks both directions: a route listed here that wants a token,
 * and a route missing here that serves anonymous callers, both fail).
 */
export const PUBLIC_OPERATIONS: Readonly<Record<string, string>> = {
  'POST /api/v1/auth/register': 'self-service sign-up into an open organisation (always as a veteran)',
  'POST /api/v1/auth/login': 'password login; lockout and rate limits instead of a token',
  'POST /api/v1/auth/login/mfa': 'second login step; the mfaToken from /login is the credential',
  'POST /api/v1/auth/refresh': 'the refresh token in the body is the credential',
  'POST /api/v1/auth/logout': 'the refresh token in the body is the credential; always 204',
  'POST /api/v1/auth/verify-email': 'the e-mailed single-use token is the credential',
  'POST /api/v1/auth/password-reset/request': 'same 202 whether the account exists or not; throttled per account',
  'POST /api/v1/auth/password-reset': 'the e-mailed single-use token is the credential',
  'POST /api/v1/auth/invitations/accept': 'the e-mailed invitation token is the credential',
  'GET /api/v1/auth/.well-known/jwks.json': 'public verification keys only (no private material)',
  'GET /api/v1/payments/plans': 'the price list: nothing tenant- or user-specific',
};

/**
 * What the services serve outside their OpenAPI documents, and where each is covered. Not API operations, so the
 * tables of the suites do not list them; kept here so the inventory of the attack surface is in one place.
 */
export const UNDOCUMENTED_SURFACES: Readonly<Record<string, string>> = {
  'GET /health/live, /health/ready, /health/startup': 'public probes (no data); fuzz.spec.ts checks /health/ready after the run',
  'GET /metrics': 'public Prometheus text (no personal data, route templates only); not routed by the gateway',
  'GET /api/v1/<service>/docs-json': 'the public OpenAPI documents these suites read',
  'GET /ws (realtime, WebSocket upgrade)': 'bearer token or ?token=; tokens.spec.ts attacks it with every forged token',
};

/** The documents of every service, fetched from the running services (never from a file: what runs is what counts). */
export async function loadApiOperations(platform: InProcessPlatform): Promise<ApiOperation[]> {
  const operations: ApiOperation[] = [];
  for (const service of SERVICES) {
    const response = await platform.call(service, 'GET', `/api/v1/${service}/docs-json`);
    if (response.status !== 200) throw new Error(`GET /api/v1/${service}/docs-json answered ${response.status}`);
    const document = response.body as OpenApiDocument;
    for (const [path, item] of Object.entries(document.paths)) {
      for (const method of HTTP_METHODS) {
        const operation = item[method];
        if (!operation) continue;
        const upper = method.toUpperCase();
        operations.push({ service, method: upper, path, key: `${upper} ${path}`, operation, document });
      }
    }
  }
  return operations;
}

/** The path of `operation` with each `{name}` replaced (a fresh UUID for names `values` does not give). */
export function fillPath(path: string, values: Record<string, string> = {}): string {
  return path.replace(/\{([^}]+)\}/g, (_match, name: string) => encodeURIComponent(values[name] ?? randomUUID()));
}

/** Resolves a `$ref` (and `allOf` of one) against the document's components. */
export function resolveSchema(document: OpenApiDocument, schema: OpenApiSchema | undefined): OpenApiSchema | undefined {
  if (!schema) return undefined;
  if (schema.$ref) {
    const name = schema.$ref.replace('#/components/schemas/', '');
    return resolveSchema(document, document.components?.schemas?.[name]);
  }
  if (schema.allOf?.length === 1) return resolveSchema(document, schema.allOf[0]);
  return schema;
}

/** The JSON body schema of an operation, when it takes one. */
export function jsonBodySchema(op: ApiOperation): OpenApiSchema | undefined {
  return resolveSchema(op.document, op.operation.requestBody?.content['application/json']?.schema);
}

/** Whether the operation takes a multipart body (uploads). */
export function takesMultipart(op: ApiOperation): boolean {
  return op.operation.requestBody?.content['multipart/form-data'] !== undefined;
}

/** The query parameters an operation documents. */
export function queryParameters(op: ApiOperation): OpenApiParameter[] {
  return (op.operation.parameters ?? []).filter((parameter) => parameter.in === 'query');
}

/** Fails with the list when some documented operation is in none of `covered` (and `alsoCovered`). */
export function uncovered(operations: readonly ApiOperation[], ...covered: ReadonlyArray<Readonly<Record<string, unknown>>>): string[] {
  return operations.filter((op) => !covered.some((table) => op.key in table)).map((op) => op.key);
}

/** Keys of `table` that name no documented operation (a renamed or removed route left a stale case behind). */
export function stale(operations: readonly ApiOperation[], table: Readonly<Record<string, unknown>>): string[] {
  const keys = new Set(operations.map((op) => op.key));
  return Object.keys(table).filter((key) => !keys.has(key));
}
