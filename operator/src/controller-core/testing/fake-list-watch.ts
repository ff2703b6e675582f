import type { ListWatch } from '../informer';
import type { KubeList, KubeObject, WatchEvent } from '../resource';

/** An async stream a test feeds by hand. */
export class Channel<T> implements AsyncIterable<T> {
  private readonly buffer: T[] = [];
  private waiter?: () => void;
  private ended = false;
  private failure?: unknown;

  push(value: T): void {
    this.buffer.push(value);
    this.wake();
  }

  end(): void {
    this.ended = true;
    this.wake();
  }

  fail(error: unknown): void {
    this.failure = error;
    this.wake();
  }

  get closed(): boolean {
    return this.ended || this.failure !== undefined;
  }

  async *[Symbol.asyncIterator](): AsyncIterator<T> {
    for (;;) {
      if (this.buffer.length > 0) {
        yield this.buffer.shift() as T;
        continue;
      }
      if (this.failure !== undefined) throw this.failure;
      if (this.ended) return;
      await new Promise<void>((resolve) => (this.waiter = resolve));
    }
  }

  private wake(): void {
    const waiter = this.waiter;
    this.waiter = undefined;
    waiter?.();
  }
}

export interface RecordedWatch<T extends KubeObject> {
  options: { resourceVersion: string; allowWatchBookmarks: boolean; timeoutSeconds: number };
  events: Channel<WatchEvent<T>>;
  signal: AbortSignal;
}

type ListAnswer<T extends KubeObject> = KubeList<T> | Error;

/**
 * A scripted ListWatch: each list() takes the next answer from `lists` (pages in order), each watch() opens a
 * Channel the test pushes events into, or throws the next error from `watchErrors`.
 */
export class FakeListWatch<T extends KubeObject> implements ListWatch<T> {
  readonly listCalls: Array<{ limit: number; continue?: string }> = [];
  readonly watches: RecordedWatch<T>[] = [];
  private readonly lists: ListAnswer<T>[] = [];
  private readonly watchErrors: Error[] = [];

  /** Queues the answer(s) of the next list() call(s). */
  answerList(...answers: ListAnswer<T>[]): this {
    this.lists.push(...answers);
    return this;
  }

  /** The next watch() call fails with `error` instead of opening a stream. */
  failNextWatch(error: Error): this {
    this.watchErrors.push(error);
    return this;
  }

  async list(options: { limit: number; continue?: string }): Promise<KubeList<T>> {
    this.listCalls.push(options);
    const answer = this.lists.shift();
    if (!answer) throw new Error('FakeListWatch: unexpected list() call (no answer queued)');
    if (answer instanceof Error) throw answer;
    return structuredClone(answer);
  }

  watch(options: RecordedWatch<T>['options'], signal: AbortSignal): AsyncIterable<WatchEvent<T>> {
    const error = this.watchErrors.shift();
    const events = new Channel<WatchEvent<T>>();
    this.watches.push({ options, events, signal });
    signal.addEventListener('abort', () => events.end(), { once: true });
    if (error) {
      return {
        [Symbol.asyncIterator]: () => ({ next: () => Promise.reject(error) }),
      };
    }
    return events;
  }

  /** The most recent watch. */
  get current(): RecordedWatch<T> {
    const watch = this.watches.at(-1);
    if (!watch) throw new Error('FakeListWatch: no watch has been opened yet');
    return watch;
  }
}

export function configMap(name: string, resourceVersion: string, data: Record<string, string> = {}, namespace = 'ns') {
  return { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name, namespace, resourceVersion }, data };
}

export function list<T extends KubeObject>(resourceVersion: string, items: T[], continueToken?: string): KubeList<T> {
  return { metadata: { resourceVersion, continue: continueToken }, items };
}
