import { ApiObject, JsonPatch } from 'cdk8s';
import { containsToken } from './helm-token';
import { Tunable, isHelmValue, renderOf } from './helm-values';

/**
 * Annotation that carries JSON patches whose values contain Helm tokens until the HelmChart applies
 * them (see {@link applyLatePatches}).
 *
 * Why: a typed cdk8s object (KubeDeployment, ...) applies `addJsonPatch` patches *before* it maps
 * its props to JSON, and that mapping calls `.map()` on lists and `Object.entries()` on maps. A
 * token string standing in for a list or a map breaks it. Patches with tokens therefore wait in
 * this annotation (a plain string, which every typed object keeps) and are applied to the finished
 * JSON by HelmChart.toJson().
 */
export const LATE_PATCHES_ANNOTATION = 'helm.rallyforge.io/late-patches';

interface LatePatch {
  readonly op: 'add' | 'replace';
  readonly path: string;
  readonly value: unknown;
}

/**
 * JSON patches for the constructs: literal values go through cdk8s' own `addJsonPatch`; values with
 * Helm tokens are applied after synthesis (see {@link LATE_PATCHES_ANNOTATION}).
 */
export class Patch {
  public static add(obj: ApiObject, path: string, value: unknown): void {
    Patch.apply(obj, { op: 'add', path, value });
  }

  public static replace(obj: ApiObject, path: string, value: unknown): void {
    Patch.apply(obj, { op: 'replace', path, value });
  }

  /** Replaces an existing field with the Helm value, if `value` is one. */
  public static replaceIfHelm(obj: ApiObject, path: string, value: Tunable<unknown> | undefined): void {
    if (isHelmValue(value)) {
      Patch.replace(obj, path, value.toToken());
    }
  }

  /** Sets a field (literal or Helm value) that cdk8s-plus does not render. */
  public static set(obj: ApiObject, path: string, value: Tunable<unknown> | undefined): void {
    if (value !== undefined) {
      Patch.add(obj, path, renderOf(value));
    }
  }

  /**
   * Sets an optional mapping or list: a Helm value is written only when not empty; a literal only
   * when it has entries.
   */
  public static setOptional(obj: ApiObject, path: string, value: Tunable<object> | undefined): void {
    if (isHelmValue(value)) {
      Patch.add(obj, path, value.toToken({ omitEmpty: true }));
    } else if (value !== undefined && Object.keys(value).length > 0) {
      Patch.add(obj, path, value);
    }
  }

  /** Appends the items of a list (literal, or a Helm list value spliced in at render time). */
  public static append(obj: ApiObject, listPath: string, items: Tunable<unknown[]> | undefined): void {
    if (isHelmValue(items)) {
      Patch.add(obj, `${listPath}/-`, items.toToken());
    } else {
      for (const item of items ?? []) {
        Patch.add(obj, `${listPath}/-`, item);
      }
    }
  }

  private static apply(obj: ApiObject, patch: LatePatch): void {
    if (!containsToken(JSON.stringify(patch.value))) {
      obj.addJsonPatch(patch.op === 'add' ? JsonPatch.add(patch.path, patch.value) : JsonPatch.replace(patch.path, patch.value));
      return;
    }
    const annotations = (obj.metadata.toJson() as { annotations?: Record<string, string> }).annotations ?? {};
    const pending = JSON.parse(annotations[LATE_PATCHES_ANNOTATION] ?? '[]') as LatePatch[];
    obj.metadata.addAnnotation(LATE_PATCHES_ANNOTATION, JSON.stringify([...pending, patch]));
  }
}

/** Applies and removes the late patches of one synthesised manifest. */
export function applyLatePatches(manifest: Record<string, unknown>): Record<string, unknown> {
  const metadata = manifest.metadata as { annotations?: Record<string, string> } | undefined;
  const pending = metadata?.annotations?.[LATE_PATCHES_ANNOTATION];
  if (!metadata?.annotations || pending === undefined) {
    return manifest;
  }
  delete metadata.annotations[LATE_PATCHES_ANNOTATION];
  if (Object.keys(metadata.annotations).length === 0) {
    delete metadata.annotations;
  }
  const ops = (JSON.parse(pending) as LatePatch[]).map((p) => (p.op === 'add' ? JsonPatch.add(p.path, p.value) : JsonPatch.replace(p.path, p.value)));
  const { apiVersion, kind, metadata: patchedMetadata, ...rest } = sortKeys(JsonPatch.apply(manifest, ...ops)) as Record<string, unknown>;
  return { apiVersion, kind, metadata: patchedMetadata, ...rest };
}

/** Sorts mapping keys as cdk8s does, so that patched fields land where a reader expects them. */
function sortKeys(value: unknown): unknown {
  if (Array.isArray(value)) {
    return value.map(sortKeys);
  }
  if (value !== null && typeof value === 'object') {
    return Object.fromEntries(
      Object.keys(value)
        .sort()
        .map((key) => [key, sortKeys((value as Record<string, unknown>)[key])]),
    );
  }
  return value;
}
