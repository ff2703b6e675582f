import { Chart, Testing } from 'cdk8s';

/** A synthesised manifest, loosely typed for assertions. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type Manifest = Record<string, any>;

/** Synthesises a chart and indexes its manifests by kind. */
export class Manifests {
  public static of(chart: Chart): Manifests {
    return new Manifests(Testing.synth(chart) as Manifest[]);
  }

  private constructor(public readonly all: Manifest[]) {}

  public kinds(): string[] {
    return this.all.map((m) => m.kind);
  }

  /** All objects of a kind. */
  public list(kind: string): Manifest[] {
    return this.all.filter((m) => m.kind === kind);
  }

  /** The one object of a kind (and name, when given); fails when there is not exactly one. */
  public get(kind: string, name?: string): Manifest {
    const found = this.list(kind).filter((m) => name === undefined || m.metadata?.name === name);
    if (found.length !== 1) {
      throw new Error(`Expected one ${kind}${name ? ` named ${name}` : ''}, found ${found.length}: ${this.all.map((m) => `${m.kind}/${m.metadata?.name}`).join(', ')}`);
    }
    return found[0];
  }
}

/** The env of a container as a name → EnvVar map. */
export function envOf(container: Manifest): Record<string, Manifest> {
  return Object.fromEntries((container.env as Manifest[]).map((e) => [e.name, e]));
}
