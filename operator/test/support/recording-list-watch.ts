import type { ListWatch } from '../../src/controller-core/informer';
import type { KubeObject, WatchEvent } from '../../src/controller-core/resource';

/**
 * Wraps a real ListWatch to observe and disturb it: records every list and watch request, can hand the informer
 * a stale resourceVersion from its next list (as if etcd had compacted it since), and can cut the open watch as a
 * dropped connection would.
 */
export class RecordingListWatch<T extends KubeObject> implements ListWatch<T> {
  readonly lists: Array<{ resourceVersion?: string }> = [];
  readonly watches: Array<{ resourceVersion: string; timeoutSeconds: number }> = [];
  private staleVersion?: string;
  private cutCurrent?: () => void;

  constructor(private readonly inner: ListWatch<T>) {}

  /** The next list answer claims `resourceVersion` instead of the real one. */
  reportStaleVersionOnce(resourceVersion: string): void {
    this.staleVersion = resourceVersion;
  }

  /** Ends the open watch with a network-style error. */
  cutWatch(): void {
    this.cutCurrent?.();
  }

  async list(options: { limit: number; continue?: string }, signal: AbortSignal) {
    const page = await this.inner.list(options, signal);
    if (this.staleVersion && !page.metadata.continue) {
      page.metadata.resourceVersion = this.staleVersion;
      this.staleVersion = undefined;
    }
    this.lists.push({ resourceVersion: page.metadata.resourceVersion });
    return page;
  }

  watch(
    options: { resourceVersion: string; allowWatchBookmarks: boolean; timeoutSeconds: number },
    signal: AbortSignal,
  ): AsyncIterable<WatchEvent<T>> {
    this.watches.push({ resourceVersion: options.resourceVersion, timeoutSeconds: options.timeoutSeconds });
    const cut = new AbortController();
    this.cutCurrent = () => cut.abort();
    const inner = this.inner;
    return (async function* () {
      yield* inner.watch(options, AbortSignal.any([signal, cut.signal]));
      if (cut.signal.aborted && !signal.aborted) throw new Error('read ECONNRESET (connection cut by the test)');
    })();
  }
}
