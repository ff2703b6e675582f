import { isNotFound } from './kube-client';
import type { KubeObject } from './resource';
import type { ResourceClient } from './resource-client';

/** True when `object` lists `finalizer`. */
export function hasFinalizer(object: KubeObject, finalizer: string): boolean {
  return object.metadata.finalizers?.includes(finalizer) ?? false;
}

/** True once deletion was requested: the API server waits for the finalizers to be removed. */
export function isBeingDeleted(object: KubeObject): boolean {
  return Boolean(object.metadata.deletionTimestamp);
}

/**
 * Adds `finalizer` to `object` unless it is there. The patch carries the resourceVersion the caller read, so it
 * fails with 409 Conflict if the object changed meanwhile (the reconcile is retried with fresh state) instead of
 * overwriting someone else's finalizer list.
 * @returns the updated object (or `object` itself when nothing had to change)
 */
export async function addFinalizer<T extends KubeObject>(
  resources: ResourceClient<T>,
  object: T,
  finalizer: string,
  signal?: AbortSignal,
): Promise<T> {
  if (hasFinalizer(object, finalizer)) return object;
  if (isBeingDeleted(object)) {
    throw new Error(
      `Cannot add finalizer ${finalizer} to ${describe(object)}: it is being deleted and the API server refuses ` +
        'new finalizers then. Run the cleanup only if the finalizer is already present.',
    );
  }
  return writeFinalizers(resources, object, [...(object.metadata.finalizers ?? []), finalizer], signal);
}

/**
 * Removes `finalizer` from `object` if it is there, with the same resourceVersion precondition.
 * @returns the updated object, `object` when nothing had to change, or undefined when the object is gone
 *   (removing the last finalizer of an object being deleted lets the API server delete it)
 */
export async function removeFinalizer<T extends KubeObject>(
  resources: ResourceClient<T>,
  object: T,
  finalizer: string,
  signal?: AbortSignal,
): Promise<T | undefined> {
  if (!hasFinalizer(object, finalizer)) return object;
  const remaining = (object.metadata.finalizers ?? []).filter((f) => f !== finalizer);
  try {
    return await writeFinalizers(resources, object, remaining, signal);
  } catch (error) {
    if (isNotFound(error)) return undefined;
    throw error;
  }
}

async function writeFinalizers<T extends KubeObject>(
  resources: ResourceClient<T>,
  object: T,
  finalizers: string[],
  signal?: AbortSignal,
): Promise<T> {
  const { name, namespace, resourceVersion } = object.metadata;
  if (!name || !resourceVersion) {
    throw new Error('Finalizers are changed on an object read from the API server (with name and resourceVersion).');
  }
  // A merge patch replaces the whole list; the resourceVersion makes that safe (optimistic concurrency).
  return resources.patch(name, namespace, { metadata: { resourceVersion, finalizers } }, { type: 'merge', signal });
}

function describe(object: KubeObject): string {
  const { name, namespace } = object.metadata;
  return `${object.kind ?? 'object'} ${namespace ? `${namespace}/` : ''}${name}`;
}
