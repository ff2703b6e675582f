/**
 * Log and error messages of the bus, as constants (nest's `CONNECTION_FAILED_MESSAGE` idea): tests and log
 * searches refer to the same text. Logs are capitalised, past tense and name the object; errors say what went
 * wrong and how to fix it.
 */
export const BusMessages = {
  connected: (name: string) => `Connected bus connection "${name}" to RabbitMQ`,
  connectFailed: (name: string, error: string, delayMs: number) =>
    `Could not connect bus connection "${name}" to RabbitMQ (${error}); retrying in ${delayMs} ms`,
  connectionLost: (name: string, error: string) => `Lost bus connection "${name}" (${error}); reconnecting`,
  connectionBlocked: (name: string, reason: string) => `RabbitMQ blocked publishing on bus connection "${name}": ${reason}`,
  connectionUnblocked: (name: string) => `RabbitMQ unblocked publishing on bus connection "${name}"`,
  setupFailed: (name: string, error: string) => `Failed to set up channels on bus connection "${name}": ${error}`,
  channelClosedUnexpectedly: (owner: string, error: string) =>
    `Channel of ${owner} closed unexpectedly (${error}); recovering the connection`,
  consumerStarted: (service: string, queue: string, patterns: string[]) =>
    `Started consuming ${queue} for service "${service}" (patterns: ${patterns.join(', ') || 'none'})`,
  consumerCancelledByBroker: (queue: string) => `RabbitMQ cancelled the consumer of ${queue}; recovering the connection`,
  messageParked: (queue: string, id: string, type: string, reason: string) =>
    `Parked message ${id} (${type}) in ${queue}: ${reason}`,
  messageRetryScheduled: (id: string, type: string, attempt: number, delayMs: number, error: string) =>
    `Scheduled retry ${attempt} of message ${id} (${type}) in ${delayMs} ms after: ${error}`,
  failurePathFailed: (id: string, error: string) =>
    `Could not schedule the retry or park of message ${id} (${error}); requeued it`,
  replyFailed: (id: string, error: string) => `Could not send the reply to request ${id}: ${error}`,
  closeTimedOut: (service: string, count: number, timeoutMs: number) =>
    `Closed service "${service}" consumer with ${count} handlers still running after ${timeoutMs} ms`,
  relayBatchFailed: (error: string, delayMs: number) => `Outbox relay batch failed (${error}); retrying in ${delayMs} ms`,
  relayListenFailed: (error: string) => `Outbox relay could not LISTEN for new rows (${error}); polling only`,
  housekeepingFailed: (what: string, error: string) => `Bus housekeeping (${what}) failed: ${error}`,

  notConnected: (name: string, timeoutMs: number) =>
    `Bus connection "${name}" is not connected to RabbitMQ after waiting ${timeoutMs} ms. ` +
    'Check that RabbitMQ is running and AMQP_URL is right; events that must not be lost belong in the outbox.',
  connectionClosed: (name: string) => `Bus connection "${name}" is closed; create a new one to publish or consume`,
  publishTimedOut: (count: number, timeoutMs: number) =>
    `RabbitMQ did not confirm ${count} published message(s) within ${timeoutMs} ms`,
  unknownContract: (type: string, version?: number) =>
    version === undefined
      ? `No message contract has type "${type}"; add it to @rallyforge/contracts before publishing it`
      : `No message contract has type "${type}" version ${version}; add it to @rallyforge/contracts before publishing it`,
  invalidPayload: (type: string, version: number, issues: string) =>
    `Payload of ${type}@${version} does not match its contract: ${issues}`,
  requestTimedOut: (type: string, id: string, timeoutMs: number) =>
    `Request ${type} (correlation id ${id}) got no reply within ${timeoutMs} ms; ` +
    'check that the service that handles it is running and healthy, or raise timeoutMs',
  requestNotRoutable: (type: string) =>
    `Request ${type} reached no queue: no running service has a @MessagePattern('${type}') handler bound to the bus`,
  requestConnectionLost: (type: string, id: string) =>
    `Request ${type} (correlation id ${id}) was cut off: the bus connection was lost before the reply arrived; retry it`,
  requestFailed: (type: string, code: string, message: string) => `Request ${type} failed with ${code}: ${message}`,
  clientClosed: 'The bus client is closed; pending requests were cancelled',
  queueArgumentsChanged: (queue: string, detail: string) =>
    `Queue ${queue} already exists with different arguments (declared by another version of the bus): ${detail}. ` +
    `Drain it, then delete it (rabbitmqctl delete_queue ${queue} -p <vhost>, or the management UI) and start the service again to redeclare it`,
  invalidHandlerPattern: (pattern: string) =>
    `Handler pattern ${pattern} cannot be bound on the bus: use a message type or topic pattern string, e.g. @EventPattern('claim.created') or @EventPattern('claim.*')`,
  invalidServiceName: (service: string) =>
    `Service name "${service}" is not allowed on the bus: use lower-case letters, digits and dashes, starting with a letter (e.g. "claims")`,
  invalidRetryDelays: (delays: readonly number[]) =>
    `retry.delaysMs [${delays.join(', ')}] is invalid: use positive whole milliseconds, e.g. [1000, 5000, 30000]`,
  connectionOrUrlRequired: (what: string) => `${what} needs either { connection } (a shared BusConnection) or { url } (an AMQP URL)`,
  managerWithoutDataSource:
    'ctx.manager is only available when the BusServer is created with { dataSource }; pass the service DataSource to use the inbox and transactional handlers',
  outboxOutsideTransaction:
    'OutboxPublisher.publish needs the EntityManager of an open transaction (dataSource.transaction(manager => ...)), so the event commits or rolls back with your change',
} as const;
