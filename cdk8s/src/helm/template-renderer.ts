/**
 * Turns synthesised manifests (plain JSON-like documents that may contain Helm tokens) into Helm
 * template text. It is a small YAML emitter with three extra rules:
 *
 * 1. a token that is a whole scalar becomes `{{ expr | quote }}` (strings) or `{{ expr }}` (numbers,
 *    booleans); tokens inside a longer string are inlined into a double-quoted scalar;
 * 2. YAML and conditional tokens become `toYaml | nindent` blocks and `{{- if }} ... {{- end }}`
 *    around mapping entries, list items or whole documents;
 * 3. every literal `{{` is escaped as `{{ "{{" }}`, so manifest content that itself uses Go or
 *    Prometheus templates renders verbatim.
 *
 * @see docs/adr/0002-cdk8s-to-helm.md
 */
import { HelmDirective, RENDER_IF_ANNOTATION, TOKEN_PATTERN, containsToken, decodeToken, wholeToken } from './helm-token';

const INDENT = 2;
const LITERAL_OPEN = /\{\{/g;
const ESCAPED_OPEN = '{{ "{{" }}';
const RESERVED_PLAIN = /^(?:~|null|true|false|yes|no|on|off|y|n)$/i;
const PLAIN_SAFE = /^[A-Za-z_/][A-Za-z0-9 ._/@%+=,()-]*$/;

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

/** Renders one manifest as a Helm template (without the leading `---`). */
export function renderTemplate(manifest: Record<string, unknown>): string {
  const doc = structuredClone(manifest) as { [key: string]: Json };
  const condition = takeRenderIf(doc);
  const body = emitMapping(doc, 0).join('\n');
  return condition ? `{{- if ${condition} }}\n${body}\n{{- end }}` : body;
}

/** Escapes every literal `{{` so that Helm writes it out verbatim. */
export function escapeLiteral(text: string): string {
  return text.replace(LITERAL_OPEN, ESCAPED_OPEN);
}

/** Throws if the manifest still contains a token (for files Helm does not template, such as crds/). */
export function assertNoTokens(manifest: unknown, where: string): void {
  const text = JSON.stringify(manifest);
  if (containsToken(text)) {
    throw new Error(
      `${where} contains Helm template tokens, but Helm does not template this file (crds/ is installed verbatim). ` +
        'Use literal values in it.',
    );
  }
}

function takeRenderIf(doc: { [key: string]: Json }): string | undefined {
  const metadata = doc.metadata as { [key: string]: Json } | undefined;
  const annotations = metadata?.annotations as { [key: string]: Json } | undefined;
  const condition = annotations?.[RENDER_IF_ANNOTATION];
  if (annotations && typeof condition === 'string') {
    delete annotations[RENDER_IF_ANNOTATION];
    if (Object.keys(annotations).length === 0) {
      delete metadata!.annotations;
    }
    return condition;
  }
  return undefined;
}

function pad(indent: number): string {
  return ' '.repeat(indent);
}

function emitMapping(map: { [key: string]: Json }, indent: number): string[] {
  return Object.entries(map).flatMap(([key, value]) => emitEntry(key, value, indent));
}

function emitEntry(key: string, value: Json, indent: number): string[] {
  const keyDirective = wholeToken(key);
  if (keyDirective?.kind === 'yaml') {
    // Helm.mergeKey: the entries of a map value, merged into this mapping.
    return [`{{- with ${keyDirective.expr} }}`, `${pad(indent)}{{- toYaml . | nindent ${indent} }}`, '{{- end }}'];
  }
  const head = `${pad(indent)}${formatKey(key)}:`;
  if (typeof value === 'string') {
    const directive = wholeToken(value);
    if (directive?.kind === 'if') {
      return [`{{- if ${directive.condition} }}`, ...emitEntry(key, directive.value as Json, indent), '{{- end }}'];
    }
    if (directive?.kind === 'yaml') {
      const inner = indent + INDENT;
      if (directive.omitEmpty) {
        return [`{{- with ${directive.expr} }}`, head, `${pad(inner)}{{- toYaml . | nindent ${inner} }}`, '{{- end }}'];
      }
      return [head, `${pad(inner)}{{- toYaml ${directive.expr} | nindent ${inner} }}`];
    }
    const [first, ...rest] = formatString(value, indent);
    return [`${head} ${first}`, ...rest];
  }
  if (Array.isArray(value)) {
    return value.length === 0 ? [`${head} []`] : [head, ...emitSequence(value, indent + INDENT)];
  }
  if (value !== null && typeof value === 'object') {
    return Object.keys(value).length === 0 ? [`${head} {}`] : [head, ...emitMapping(value, indent + INDENT)];
  }
  return [`${head} ${formatPrimitive(value)}`];
}

function emitSequence(items: Json[], indent: number): string[] {
  const dash = `${pad(indent)}-`;
  return items.flatMap((item): string[] => {
    if (typeof item === 'string') {
      const directive = wholeToken(item);
      if (directive?.kind === 'if') {
        return [`{{- if ${directive.condition} }}`, ...emitSequence([directive.value as Json], indent), '{{- end }}'];
      }
      if (directive?.kind === 'yaml') {
        // Splices the elements of a list value into this list.
        return [`{{- with ${directive.expr} }}`, `${pad(indent)}{{- toYaml . | nindent ${indent} }}`, '{{- end }}'];
      }
      const [first, ...rest] = formatString(item, indent);
      return [`${dash} ${first}`, ...rest];
    }
    if (Array.isArray(item)) {
      return item.length === 0 ? [`${dash} []`] : [dash, ...emitSequence(item, indent + INDENT)];
    }
    if (item !== null && typeof item === 'object') {
      if (Object.keys(item).length === 0) {
        return [`${dash} {}`];
      }
      const lines = emitMapping(item, indent + INDENT);
      if (lines[0].startsWith('{{')) {
        // A conditional first entry cannot share the dash's line.
        return [dash, ...lines];
      }
      return [`${dash} ${lines[0].slice(indent + INDENT)}`, ...lines.slice(1)];
    }
    return [`${dash} ${formatPrimitive(item)}`];
  });
}

function formatKey(key: string): string {
  if (containsToken(key)) {
    throw new Error(`Helm tokens are not supported in mapping keys (found in "${key}"). Put the token in the value instead.`);
  }
  const escaped = escapeLiteral(key);
  return isPlainSafe(escaped) ? escaped : JSON.stringify(key).replace(LITERAL_OPEN, ESCAPED_OPEN);
}

function formatPrimitive(value: null | boolean | number): string {
  return value === null ? 'null' : String(value);
}

function isPlainSafe(text: string): boolean {
  return PLAIN_SAFE.test(text) && !RESERVED_PLAIN.test(text) && !text.endsWith(' ');
}

/** A string scalar; returns several lines for block literals. */
function formatString(value: string, indent: number): string[] {
  const directive = wholeToken(value);
  if (directive) {
    return [formatExpression(directive, value)];
  }
  if (value.includes('\n')) {
    return formatBlockLiteral(value, indent);
  }
  if (containsToken(value)) {
    return [`"${interpolate(value, (literal) => JSON.stringify(literal).slice(1, -1))}"`];
  }
  const escaped = escapeLiteral(value);
  if (escaped === value && isPlainSafe(value)) {
    return [value];
  }
  return [JSON.stringify(value).replace(LITERAL_OPEN, ESCAPED_OPEN)];
}

function formatExpression(directive: HelmDirective, token: string): string {
  if (directive.kind !== 'expr') {
    throw new Error(`A ${directive.kind} token can only be a mapping value or a list item, not part of a string: ${describe(token)}`);
  }
  return directive.type === 'string' ? `{{ ${directive.expr} | quote }}` : `{{ ${directive.expr} }}`;
}

function formatBlockLiteral(value: string, indent: number): string[] {
  const chomping = value.endsWith('\n') ? (value.endsWith('\n\n') ? '+' : '') : '-';
  const body = value.endsWith('\n') ? value.slice(0, -1) : value;
  const inner = indent + INDENT;
  const indicator = /^\s/.test(body) ? String(INDENT) : '';
  const lines = body.split('\n').map((line) => (line.length === 0 ? '' : pad(inner) + interpolate(line, (literal) => literal)));
  return [`|${indicator}${chomping}`, ...lines];
}

/** Replaces tokens with `{{ expr }}` and escapes the literal parts around them. */
function interpolate(value: string, escapeLiteralPart: (literal: string) => string): string {
  let out = '';
  let last = 0;
  for (const match of value.matchAll(TOKEN_PATTERN)) {
    out += escapeLiteral(escapeLiteralPart(value.slice(last, match.index)));
    const directive = decodeToken(match[1]);
    if (directive.kind !== 'expr') {
      throw new Error(`A ${directive.kind} token cannot be embedded in a string: ${describe(match[0])}`);
    }
    out += `{{ ${directive.expr} }}`;
    last = match.index + match[0].length;
  }
  return out + escapeLiteral(escapeLiteralPart(value.slice(last)));
}

function describe(token: string): string {
  const payload = /@@helm:([A-Za-z0-9_-]+)@@/.exec(token);
  return payload ? JSON.stringify(decodeToken(payload[1])) : token;
}
