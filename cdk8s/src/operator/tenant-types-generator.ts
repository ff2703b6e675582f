/**
 * Generates the RallyForgeTenant TypeScript types from the CRD's OpenAPI schema (tenant-crd.ts), so that the schema
 * stays the single source of truth (kubebuilder goes the other way, Go types to schema; either way there is one
 * source). `npm run gen:tenant-types -w @rallyforge/cdk8s` writes tenant-types.generated.ts; a test fails when the
 * committed file differs from what the schema produces.
 */
import { tenantCustomResourceDefinition } from './tenant-crd';

interface Schema {
  type?: string;
  description?: string;
  format?: string;
  enum?: readonly string[];
  default?: unknown;
  required?: readonly string[];
  properties?: Record<string, Schema>;
  items?: Schema;
}

interface Emitted {
  name: string;
  text: string;
}

function pascal(parts: string[]): string {
  return parts.map((p) => p.charAt(0).toUpperCase() + p.slice(1)).join('');
}

function docComment(schema: Schema, indent: string): string {
  const lines: string[] = [];
  if (schema.description) lines.push(...schema.description.split('\n'));
  if (schema.default !== undefined) lines.push(`@default ${JSON.stringify(schema.default)}`);
  if (!lines.length) return '';
  if (lines.length === 1) return `${indent}/** ${lines[0]} */\n`;
  return `${indent}/**\n${lines.map((l) => `${indent} * ${l}`).join('\n')}\n${indent} */\n`;
}

function typeOf(schema: Schema, path: string[], out: Emitted[]): string {
  if (schema.enum) return schema.enum.map((v) => JSON.stringify(v)).join(' | ');
  switch (schema.type) {
    case 'string':
      return 'string';
    case 'integer':
    case 'number':
      return 'number';
    case 'boolean':
      return 'boolean';
    case 'array':
      return `Array<${typeOf(schema.items ?? {}, path, out)}>`;
    case 'object': {
      if (!schema.properties) return 'Record<string, unknown>';
      const name = pascal(path);
      emitInterface(name, schema, path, out);
      return name;
    }
    default:
      throw new Error(`tenant-types: unsupported schema type "${schema.type}" at ${path.join('.')}`);
  }
}

function emitInterface(name: string, schema: Schema, path: string[], out: Emitted[]): void {
  const required = new Set(schema.required ?? []);
  const fields = Object.entries(schema.properties ?? {}).map(([field, child]) => {
    const type = typeOf(child, [...path, field], out);
    return `${docComment(child, '  ')}  ${field}${required.has(field) ? '' : '?'}: ${type};`;
  });
  out.push({ name, text: `${docComment(schema, '')}export interface ${name} {\n${fields.join('\n')}\n}\n` });
}

/** The generated module's text. */
export function generateTenantTypes(): string {
  const crd = tenantCustomResourceDefinition() as { spec: { versions: Array<{ schema: { openAPIV3Schema: Schema } }> } };
  const root = crd.spec.versions[0].schema.openAPIV3Schema;
  const out: Emitted[] = [];
  // Items of status.conditions get a name of their own (metav1.Condition).
  const status = root.properties!.status;
  const conditionSchema = status.properties!.conditions.items!;
  emitInterface('TenantCondition', conditionSchema, ['TenantCondition'], out);
  typeOf(root.properties!.spec, ['RallyForgeTenant', 'Spec'], out);
  const statusCopy: Schema = {
    ...status,
    properties: { ...status.properties, conditions: { ...status.properties!.conditions, items: { type: 'object' } } },
  };
  typeOf(statusCopy, ['RallyForgeTenant', 'Status'], out);
  const body = out
    .map((e) => e.text)
    .join('\n')
    .replace('conditions?: Array<Record<string, unknown>>;', 'conditions?: TenantCondition[];');
  return (
    '// Generated from tenant-crd.ts by `npm run gen:tenant-types -w @rallyforge/cdk8s`. Do not edit by hand:\n' +
    '// change the schema and regenerate (tenant-types.spec.ts fails while the two disagree).\n' +
    '/* eslint-disable */\n\n' +
    body
  );
}
