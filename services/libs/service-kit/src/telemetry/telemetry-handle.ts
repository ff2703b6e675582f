/**
 * The running OpenTelemetry SDK, kept on a global symbol by `register.js` so that the service's shutdown can
 * flush it without importing the SDK (which must only ever be loaded by the -r preload).
 */
const HANDLE = Symbol.for('rallyforge.telemetry.sdk');

export interface TelemetryHandle {
  shutdown(): Promise<void>;
}

export function setTelemetryHandle(handle: TelemetryHandle): void {
  (globalThis as Record<symbol, TelemetryHandle | undefined>)[HANDLE] = handle;
}

export function getTelemetryHandle(): TelemetryHandle | undefined {
  return (globalThis as Record<symbol, TelemetryHandle | undefined>)[HANDLE];
}

/** Flushes and stops the SDK if one runs; never throws, never waits longer than `timeoutMs`. */
export async function shutdownTelemetry(timeoutMs = 5000): Promise<void> {
  const handle = getTelemetryHandle();
  if (!handle) {
    return;
  }
  (globalThis as Record<symbol, TelemetryHandle | undefined>)[HANDLE] = undefined;
  let timer: NodeJS.Timeout | undefined;
  try {
    await Promise.race([
      handle.shutdown(),
      new Promise((resolve) => {
        timer = setTimeout(resolve, timeoutMs);
      }),
    ]);
  } catch {
    // exporting the last spans failed: nothing left to do about it on the way out
  } finally {
    clearTimeout(timer);
  }
}
