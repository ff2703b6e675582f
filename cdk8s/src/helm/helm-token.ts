/**
 * Helm tokens: how a cdk8s construct asks for a piece of Helm template in a manifest that cdk8s
 * synthesises as static YAML.
 *
 * A token is an ordinary string (`@@helm:<base64url JSON>@@`), so it travels through cdk8s and
 * cdk8s-plus untouched wherever a string is accepted: names, labels, env values, annotations, and,
 * through `Patch` (patch.ts), in place of a number, a boolean or a whole sub-tree. The
 * post-synth step (`template-renderer.ts`) decodes each token into Helm template text; everything
 * that is not a token is literal content, and any literal `{{` in it is escaped.
 *
 * @see docs/adr/0002-cdk8s-to-helm.md
 */

import { ApiObject } from 'cdk8s';
import { IConstruct } from 'constructs';

/** Annotation that {@link renderIf} sets and the renderer turns into `{{- if }}` around the object. */
export const RENDER_IF_ANNOTATION = 'helm.rallyforge.io/render-if';

/** Marks the start and end of a token inside a string. */
const TOKEN_PREFIX = '@@helm:';
const TOKEN_SUFFIX = '@@';
/** Finds every token in a string (global: reset `lastIndex` or use `matchAll`). */
export const TOKEN_PATTERN = /@@helm:([A-Za-z0-9_-]+)@@/g;

/** Decoded token: what the renderer must write in place of the token. */
export type HelmDirective =
  /** An inline expression: `{{ e }}`, or `{{ e | quote }}` when it stands alone as a string value. */
  | { readonly kind: 'expr'; readonly expr: string; readonly type: 'string' | 'raw' }
  /**
   * A YAML sub-tree produced by `toYaml`. As a mapping value it becomes `key:` + `toYaml | nindent`;
   * as a list item its elements are spliced into the list. With `omitEmpty` the key (or nothing)
   * is written only when the value is not empty.
   */
  | { readonly kind: 'yaml'; readonly expr: string; readonly omitEmpty: boolean }
  /** A mapping entry or list item that is written only when `condition` holds. */
  | { readonly kind: 'if'; readonly condition: string; readonly value: unknown };

/** Encodes a directive as a token string. */
export function encodeToken(directive: HelmDirective): string {
  return TOKEN_PREFIX + Buffer.from(JSON.stringify(directive), 'utf8').toString('base64url') + TOKEN_SUFFIX;
}

/** Decodes the payload captured by {@link TOKEN_PATTERN}. */
export function decodeToken(payload: string): HelmDirective {
  return JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')) as HelmDirective;
}

/** True when the string contains at least one token. */
export function containsToken(value: string): boolean {
  return value.includes(TOKEN_PREFIX);
}

/**
 * If the whole string is exactly one token, its directive; otherwise undefined.
 */
export function wholeToken(value: string): HelmDirective | undefined {
  const match = /^@@helm:([A-Za-z0-9_-]+)@@$/.exec(value);
  return match ? decodeToken(match[1]) : undefined;
}

/**
 * Builders for Helm template fragments. Expressions are Go-template pipelines written as Helm
 * chart authors write them (`.Values.image.tag`, `include "rallyforge.fullname" $`).
 */
export class Helm {
  /** A string computed by a template expression; quoted when it is the whole value. */
  public static str(expr: string): string {
    return encodeToken({ kind: 'expr', expr, type: 'string' });
  }

  /** A number or boolean computed by a template expression: written unquoted. */
  public static raw(expr: string): string {
    return encodeToken({ kind: 'expr', expr, type: 'raw' });
  }

  /** A YAML sub-tree (mapping or list) rendered with `toYaml`. */
  public static yaml(expr: string, options: { readonly omitEmpty?: boolean } = {}): string {
    return encodeToken({ kind: 'yaml', expr, omitEmpty: options.omitEmpty ?? false });
  }

  /**
   * A mapping key that merges the entries of a map value into the mapping it is added to (the
   * value of the entry is ignored). Lets literal entries and a values map share one mapping, such
   * as an object's annotations.
   */
  public static mergeKey(expr: string): string {
    return Helm.yaml(expr, { omitEmpty: true });
  }

  /** A string from a named template in `_helpers.tpl`. */
  public static include(template: string): string {
    return Helm.str(`include ${JSON.stringify(template)} $`);
  }

  /** The release name. */
  public static releaseName(): string {
    return Helm.str('.Release.Name');
  }

  /** The release namespace. */
  public static releaseNamespace(): string {
    return Helm.str('.Release.Namespace');
  }

  /**
   * A mapping entry or list item present only when `condition` (a template pipeline) is true.
   * `value` may itself contain tokens.
   */
  public static when(condition: string, value: unknown): string {
    return encodeToken({ kind: 'if', condition, value });
  }

  /**
   * The template expression of a string that may contain `expr` tokens: a quoted literal, the
   * token's expression, or a `printf` joining both.
   */
  public static expressionOf(value: string): string {
    const whole = wholeToken(value);
    if (whole?.kind === 'expr') {
      return whole.expr;
    }
    if (!containsToken(value)) {
      return JSON.stringify(value);
    }
    let format = '';
    const args: string[] = [];
    let last = 0;
    for (const match of value.matchAll(TOKEN_PATTERN)) {
      const directive = decodeToken(match[1]);
      if (directive.kind !== 'expr') {
        throw new Error(`Only expression tokens can be part of a string, not ${directive.kind}: ${JSON.stringify(directive)}`);
      }
      format += value.slice(last, match.index).replace(/%/g, '%%') + '%v';
      args.push(`(${directive.expr})`);
      last = match.index + match[0].length;
    }
    format += value.slice(last).replace(/%/g, '%%');
    return `printf ${JSON.stringify(format)} ${args.join(' ')}`;
  }

  /** A string that is `whenTrue` if `condition` holds, else `whenFalse` (both may contain tokens). */
  public static choose(condition: string, whenTrue: string, whenFalse: string): string {
    return Helm.str(`ternary (${Helm.expressionOf(whenTrue)}) (${Helm.expressionOf(whenFalse)}) (${condition})`);
  }

  /** `not <condition>` with the parentheses a pipeline needs. */
  public static not(condition: string): string {
    return `not (${condition})`;
  }

  /** `and` of several conditions. */
  public static and(...conditions: string[]): string {
    return `and ${conditions.map((c) => `(${c})`).join(' ')}`;
  }

  /** `eq <expr> "<literal>"`. */
  public static equals(expr: string, literal: string): string {
    return `eq (${expr}) ${JSON.stringify(literal)}`;
  }

  /** True when the cluster serves the given `group/version/Kind`. */
  public static apiAvailable(apiVersionKind: string): string {
    return `.Capabilities.APIVersions.Has ${JSON.stringify(apiVersionKind)}`;
  }
}

/**
 * Renders the object only when `condition` (a template pipeline) holds, for example an HPA only
 * when autoscaling is enabled. Conditions added twice are combined with `and`.
 */
export function renderIf(construct: IConstruct, condition: string): void {
  const metadata = ApiObject.of(construct).metadata;
  const existing = (metadata.toJson() as { annotations?: Record<string, string> }).annotations?.[RENDER_IF_ANNOTATION];
  metadata.addAnnotation(RENDER_IF_ANNOTATION, existing ? Helm.and(existing, condition) : condition);
}
