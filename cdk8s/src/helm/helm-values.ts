import { Construct, IConstruct } from 'constructs';
import { Helm } from './helm-token';

/** JSON Schema (draft-07) fragment, as Helm validates `values.schema.json`. */
export type JsonSchema = { readonly [keyword: string]: unknown };

/** The JSON type of a value. */
export type HelmValueType = 'string' | 'integer' | 'number' | 'boolean' | 'object' | 'array';

/** Options common to every declared value. */
export interface HelmValueOptions {
  /** What the value does; written above the key in `values.yaml` and into the schema. */
  readonly description: string;
  /**
   * Extra JSON Schema keywords for the value (`minimum`, `enum`, `pattern`, `items`, ...).
   * @default - only the type is checked
   */
  readonly schema?: JsonSchema;
}

/** A declared value as the chart writer needs it. */
export interface HelmValueDeclaration {
  readonly path: string;
  readonly type: HelmValueType | 'section';
  readonly description: string;
  readonly default?: unknown;
  readonly schema?: JsonSchema;
}

const PATH_PATTERN = /^[a-z][A-Za-z0-9]*(\.[a-z][A-Za-z0-9]*)*$/;

/**
 * A reference to one entry of the chart's `values.yaml`.
 *
 * Constructs take `Tunable<T>` props: a literal `T` gives a static manifest; a `HelmValue<T>`
 * makes the field a Helm value whose default is `defaultValue`. Used as a string (`${value}`), it
 * is a token for the value's expression.
 */
export class HelmValue<T> {
  public constructor(
    /** Dotted path under `.Values`. */
    public readonly path: string,
    /** The default written into `values.yaml`; constructs validate and render with it. */
    public readonly defaultValue: T,
    /** JSON type, which decides how the value is templated (quoted, raw, or `toYaml`). */
    public readonly type: HelmValueType,
  ) {}

  /** The template expression, for example `.Values.image.tag`. */
  public get expr(): string {
    return `.Values.${this.path}`;
  }

  /** A token that renders this value in place: quoted string, raw number/boolean, or YAML block. */
  public toToken(options: { readonly omitEmpty?: boolean } = {}): string {
    switch (this.type) {
      case 'string':
        return Helm.str(this.expr);
      case 'object':
      case 'array':
        return Helm.yaml(this.expr, options);
      default:
        return Helm.raw(this.expr);
    }
  }

  public toString(): string {
    return this.toToken();
  }
}

/** A literal value or a Helm value. */
export type Tunable<T> = T | HelmValue<T>;

/** True when the tunable is bound to a Helm value. */
export function isHelmValue<T>(value: Tunable<T> | undefined): value is HelmValue<T> {
  return value instanceof HelmValue;
}

/** The literal value, or the Helm value's default. */
export function defaultOf<T>(value: Tunable<T>): T {
  return isHelmValue(value) ? value.defaultValue : value;
}

/** The literal value, or the Helm value's token (to patch into a manifest). */
export function renderOf<T>(value: Tunable<T>): T | string {
  return isHelmValue(value) ? value.toToken() : value;
}

/**
 * The values a Helm chart exposes, declared by the constructs that use them, in the order they
 * should appear in `values.yaml`. One instance per chart: {@link HelmValues.of}.
 */
export class HelmValues extends Construct {
  /** The registry of the chart that contains `scope`. */
  public static of(scope: IConstruct): HelmValues {
    let current: IConstruct | undefined = scope;
    while (current) {
      const found = current.node.tryFindChild(HELM_VALUES_ID);
      if (found instanceof HelmValues) {
        return found;
      }
      current = current.node.scope;
    }
    throw new Error(
      `No HelmValues found above ${scope.node.path}: Helm values can only be declared inside a HelmChart. ` +
        'Create the construct under a HelmChart, or pass literal values instead of HelmValue references.',
    );
  }

  private readonly declarations = new Map<string, HelmValueDeclaration>();

  public constructor(scope: Construct) {
    super(scope, HELM_VALUES_ID);
  }

  /** Documents an intermediate mapping (`services.auth`) in `values.yaml` and the schema. */
  public section(path: string, description: string): void {
    this.add({ path, type: 'section', description });
  }

  public string(path: string, defaultValue: string, options: HelmValueOptions): HelmValue<string> {
    return this.declare(path, defaultValue, 'string', options);
  }

  public integer(path: string, defaultValue: number, options: HelmValueOptions): HelmValue<number> {
    if (!Number.isInteger(defaultValue)) {
      throw new Error(`Helm value ${path}: default ${defaultValue} is not an integer. Use HelmValues.number() for fractions.`);
    }
    return this.declare(path, defaultValue, 'integer', options);
  }

  public boolean(path: string, defaultValue: boolean, options: HelmValueOptions): HelmValue<boolean> {
    return this.declare(path, defaultValue, 'boolean', options);
  }

  public object<T extends object>(path: string, defaultValue: T, options: HelmValueOptions): HelmValue<T> {
    return this.declare(path, defaultValue, 'object', options);
  }

  public array<T>(path: string, defaultValue: T[], options: HelmValueOptions): HelmValue<T[]> {
    return this.declare(path, defaultValue, 'array', options);
  }

  /** Every declaration, in declaration order. */
  public get all(): HelmValueDeclaration[] {
    return [...this.declarations.values()];
  }

  private declare<T>(path: string, defaultValue: T, type: HelmValueType, options: HelmValueOptions): HelmValue<T> {
    this.add({ path, type, description: options.description, default: defaultValue, schema: options.schema });
    return new HelmValue(path, defaultValue, type);
  }

  private add(declaration: HelmValueDeclaration): void {
    const { path } = declaration;
    if (!PATH_PATTERN.test(path)) {
      throw new Error(
        `Helm value path "${path}" is invalid: use dot-separated camelCase identifiers (for example "services.auth.replicas") ` +
          'so that templates can reference it as .Values.<path>.',
      );
    }
    if (this.declarations.has(path)) {
      throw new Error(`Helm value "${path}" is declared twice. Declare it once and pass the HelmValue to every construct that uses it.`);
    }
    for (const existing of this.declarations.values()) {
      if (existing.type !== 'section' && path.startsWith(`${existing.path}.`)) {
        throw new Error(`Helm value "${path}" is nested under the leaf value "${existing.path}". Declare "${existing.path}" as a section instead.`);
      }
      if (declaration.type !== 'section' && existing.path.startsWith(`${path}.`)) {
        throw new Error(`Helm value "${path}" would replace the values already declared under it ("${existing.path}").`);
      }
    }
    if (!declaration.description.trim()) {
      throw new Error(`Helm value "${path}" needs a description: it is the documentation of values.yaml.`);
    }
    this.declarations.set(path, declaration);
  }
}

const HELM_VALUES_ID = 'HelmValues';

/**
 * `whenTrue` or `whenFalse` depending on a flag: decided now for a literal flag, at render time for
 * a Helm value. Both strings may contain tokens.
 */
export function chooseString(flag: Tunable<boolean>, whenTrue: string, whenFalse: string): string {
  if (isHelmValue(flag)) {
    return Helm.choose(flag.expr, whenTrue, whenFalse);
  }
  return flag ? whenTrue : whenFalse;
}

/** A template condition for a flag (`.Values.x`), or undefined for a literal flag. */
export function conditionOf(flag: Tunable<boolean>): string | undefined {
  return isHelmValue(flag) ? flag.expr : undefined;
}

/** A tunable as a string (for env values): the literal's text, or the Helm value quoted. */
export function stringOf(value: Tunable<string | number | boolean>): string {
  return isHelmValue(value) ? Helm.str(value.expr) : String(value);
}
