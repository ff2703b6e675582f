import { EventEmitter } from 'node:events';
import type { DataSource, EntityManager, EntitySubscriberInterface, TransactionCommitEvent } from 'typeorm';

/** Marker in `QueryRunner.data` (TypeORM's slot for sharing data with subscribers) of a transaction that wrote outbox rows. */
const OUTBOX_WRITTEN = 'rallyforgeBusOutboxWritten';
const COMMITTED = 'committed';

const emitters = new WeakMap<DataSource, EventEmitter>();

/**
 * Wakes an in-process relay right after a transaction that wrote outbox rows commits, so the event goes out
 * within milliseconds without waiting for NOTIFY or the next poll. Rolled-back transactions never fire it.
 */
class OutboxCommitSubscriber implements EntitySubscriberInterface {
  constructor(private readonly emitter: EventEmitter) {}

  afterTransactionCommit(event: TransactionCommitEvent): void {
    const runner = event.queryRunner;
    // Releasing a savepoint also "commits"; only the outermost commit makes the rows visible.
    if (runner.isTransactionActive || !runner.data?.[OUTBOX_WRITTEN]) return;
    delete runner.data[OUTBOX_WRITTEN];
    this.emitter.emit(COMMITTED);
  }
}

function emitterFor(dataSource: DataSource): EventEmitter {
  let emitter = emitters.get(dataSource);
  if (!emitter) {
    emitter = new EventEmitter();
    emitter.setMaxListeners(0);
    emitters.set(dataSource, emitter);
    dataSource.subscribers.push(new OutboxCommitSubscriber(emitter));
  }
  return emitter;
}

/** Flags the transaction of `manager` as having written outbox rows. */
export function markOutboxWritten(manager: EntityManager): void {
  const runner = manager.queryRunner;
  if (!runner) return;
  emitterFor(manager.connection);
  runner.data = runner.data ?? {};
  runner.data[OUTBOX_WRITTEN] = true;
}

/** Calls `listener` after every commit (on `dataSource`) that wrote outbox rows; returns the unsubscribe function. */
export function onOutboxCommitted(dataSource: DataSource, listener: () => void): () => void {
  const emitter = emitterFor(dataSource);
  emitter.on(COMMITTED, listener);
  return () => emitter.off(COMMITTED, listener);
}
