import { ApiObject, JsonPatch } from 'cdk8s';
import { Tunable, isHelmValue, renderOf } from './helm-values';

interface PostPatch {
  readonly op: 'add' | 'replace' | 'remove';
  readonly path: string;
  readonly value?: unknown;
}

/** Patches per object, applied after the object has rendered its JSON. */
const PENDING = new WeakMap<ApiObject, PostPatch[]>();

/**
 * JSON patches applied to an object's *finished* JSON.
 *
 * Why not `ApiObject.addJsonPatch`: a typed cdk8s object (KubeDeployment, ...) applies those patches
 * *before* it maps its props to JSON, and that mapping reshapes what it knows: it calls `.map()` on
 * lists and `Object.entries()` on maps (a Helm token standing in for either breaks it) and reads
 * quantities as `Quantity` objects (a plain `'512Mi'` becomes undefined). Patching the output
 * instead lets the constructs write fields exactly as Kubernetes (and Helm) expect them.
 */
export class Patch {
  public static add(obj: ApiObject, path: string, value: unknown): void {
    Patch.register(obj, { op: 'add', path, value });
  }

  public static replace(obj: ApiObject, path: string, value: unknown): void {
    Patch.register(obj, { op: 'replace', path, value });
  }

  public static remove(obj: ApiObject, path: string): void {
    Patch.register(obj, { op: 'remove', path });
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

  private static register(obj: ApiObject, patch: PostPatch): void {
    const pending = PENDING.get(obj);
    if (pending) {
      pending.push(patch);
      return;
    }
    PENDING.set(obj, [patch]);
    const render = obj.toJson.bind(obj);
    // An own property shadows the prototype's toJson, which is what App/Chart synthesis calls.
    obj.toJson = () => applyPatches(render(), PENDING.get(obj) ?? []);
  }
}

function applyPatches(manifest: Record<string, unknown>, patches: PostPatch[]): Record<string, unknown> {
  const ops = patches.map((p) => (p.op === 'add' ? JsonPatch.add(p.path, p.value) : p.op === 'replace' ? JsonPatch.replace(p.path, p.value) : JsonPatch.remove(p.path)));
  const { apiVersion, kind, metadata, ...rest } = sortKeys(JsonPatch.apply(manifest, ...ops)) as Record<string, unknown>;
  return { apiVersion, kind, metadata, ...rest };
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
