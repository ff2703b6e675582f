/** One open socket as the registry sees it: enough to deliver and to close it. */
export interface LocalConnection {
  readonly id: string;
  readonly tenantId: string;
  readonly userId: string;
  send(text: string): void;
}

/**
 * The sockets open on this instance, grouped by (tenant, user). Pure bookkeeping, no I/O: the caller subscribes
 * to a user's channel when `add` reports the first socket and unsubscribes when `remove` reports the last.
 */
export class LocalConnections<C extends LocalConnection = LocalConnection> {
  private readonly byUser = new Map<string, Map<string, C>>();
  private total = 0;

  /** Registers `connection`; true when it is the user's first socket on this instance. */
  add(key: string, connection: C): boolean {
    let sockets = this.byUser.get(key);
    const first = !sockets;
    if (!sockets) {
      sockets = new Map();
      this.byUser.set(key, sockets);
    }
    if (!sockets.has(connection.id)) {
      sockets.set(connection.id, connection);
      this.total++;
    }
    return first;
  }

  /** Forgets `connection`; true when it was the user's last socket here. Unknown connections are ignored. */
  remove(key: string, connectionId: string): boolean {
    const sockets = this.byUser.get(key);
    if (!sockets || !sockets.delete(connectionId)) return false;
    this.total--;
    if (sockets.size === 0) {
      this.byUser.delete(key);
      return true;
    }
    return false;
  }

  /** The user's sockets on this instance (empty when none). */
  forKey(key: string): C[] {
    return [...(this.byUser.get(key)?.values() ?? [])];
  }

  all(): C[] {
    return [...this.byUser.values()].flatMap((sockets) => [...sockets.values()]);
  }

  keys(): string[] {
    return [...this.byUser.keys()];
  }

  get size(): number {
    return this.total;
  }
}
