/** Stops the throwaway containers when testcontainers started them; the local servers keep running (reused). */
export default async function globalTeardown(): Promise<void> {
  const stop = (globalThis as { __rfStopContainers?: () => Promise<void> }).__rfStopContainers;
  if (stop) await stop();
}
