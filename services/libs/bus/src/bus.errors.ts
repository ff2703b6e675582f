/** Base class of every error the bus throws, so callers can tell bus failures from their own. */
export class BusError extends Error {
  constructor(
    message: string,
    /** Stable machine-readable code. */
    readonly code: string,
  ) {
    super(message);
    this.name = new.target.name;
  }
}

/** A publish or request could not get a connection in time. */
export class BusNotConnectedError extends BusError {
  constructor(message: string) {
    super(message, 'bus_not_connected');
  }
}

/** The broker did not confirm (or negatively confirmed) a publish. */
export class BusPublishError extends BusError {
  constructor(message: string) {
    super(message, 'bus_publish_failed');
  }
}

/** A payload broke its contract, or the contract does not exist. Producer-side: nothing was published. */
export class BusValidationError extends BusError {
  constructor(message: string) {
    super(message, 'bus_invalid_message');
  }
}

/** Request/reply: no reply arrived within the timeout. */
export class BusRequestTimeoutError extends BusError {
  constructor(
    message: string,
    readonly correlationId: string,
    readonly timeoutMs: number,
  ) {
    super(message, 'bus_request_timeout');
  }
}

/** Request/reply: the command could not be routed to any queue, or the connection dropped before the reply. */
export class BusRequestError extends BusError {}

/** Request/reply: the handler answered with `{ ok: false, code, message }`. `code` is the handler's code. */
export class BusCommandFailedError extends BusError {
  constructor(
    message: string,
    code: string,
    readonly reason: string,
  ) {
    super(message, code);
  }
}

/** The bus was configured in a way that cannot work; the message says how to fix it. */
export class BusConfigurationError extends BusError {
  constructor(message: string) {
    super(message, 'bus_configuration');
  }
}
