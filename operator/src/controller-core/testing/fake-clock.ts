import type { Clock, ClockTimer } from '../clock';

interface ScheduledTimer extends ClockTimer {
  readonly id: number;
  readonly dueAt: number;
  readonly callback: () => void;
}

/**
 * A clock that only moves when a test moves it. Timers fire in due-time order (ties in scheduling order), each
 * with `now()` equal to its due time; `advance` also fires timers that callbacks schedule within the window.
 */
export class FakeClock implements Clock {
  private current: number;
  private nextId = 1;
  private readonly timers = new Map<number, ScheduledTimer>();

  constructor(startMs = Date.UTC(2026, 0, 1)) {
    this.current = startMs;
  }

  now(): number {
    return this.current;
  }

  setTimeout(callback: () => void, delayMs: number): ClockTimer {
    const timer: ScheduledTimer = { id: this.nextId++, dueAt: this.current + Math.max(0, delayMs), callback };
    this.timers.set(timer.id, timer);
    return timer;
  }

  clearTimeout(timer: ClockTimer): void {
    this.timers.delete((timer as ScheduledTimer).id);
  }

  /** Number of timers not yet fired or cleared. */
  pendingTimers(): number {
    return this.timers.size;
  }

  /** Due time of the earliest pending timer, if any. */
  nextDueAt(): number | undefined {
    return this.earliest()?.dueAt;
  }

  /**
   * Moves time forward by `ms`, firing due timers one by one and letting promise chains settle after each
   * (so async code woken by a timer runs before the next timer fires).
   */
  async advance(ms: number): Promise<void> {
    const target = this.current + ms;
    await flushMicrotasks();
    for (let timer = this.earliest(); timer && timer.dueAt <= target; timer = this.earliest()) {
      this.timers.delete(timer.id);
      this.current = Math.max(this.current, timer.dueAt);
      timer.callback();
      await flushMicrotasks();
    }
    this.current = target;
    await flushMicrotasks();
  }

  /** Advances to the next timer's due time and fires it (and any others due then). */
  async runNext(): Promise<void> {
    const next = this.nextDueAt();
    if (next !== undefined) await this.advance(next - this.current);
  }

  private earliest(): ScheduledTimer | undefined {
    let found: ScheduledTimer | undefined;
    for (const timer of this.timers.values()) {
      if (!found || timer.dueAt < found.dueAt) found = timer;
    }
    return found;
  }
}

/** Lets every queued promise continuation run (setImmediate fires after the microtask queue drains). */
export function flushMicrotasks(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}
