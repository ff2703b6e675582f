/** Structured fields attached to a log line (object names, keys, durations, errors). */
export type LogFields = Record<string, unknown>;

/**
 * The logging surface of the controller core. Messages follow the kubebuilder style: capitalised, past tense,
 * naming the object ("Acquired lease rallyforge-system/rallyforge-operator").
 */
export interface Logger {
  debug(message: string, fields?: LogFields): void;
  info(message: string, fields?: LogFields): void;
  warn(message: string, fields?: LogFields): void;
  error(message: string, fields?: LogFields): void;
}

export type LogLevel = 'debug' | 'info' | 'warn' | 'error' | 'silent';

const LEVEL_ORDER: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40, silent: 100 };

/** Discards everything. */
export const silentLogger: Logger = { debug: () => {}, info: () => {}, warn: () => {}, error: () => {} };

/**
 * One JSON object per line (pino-compatible fields: `level`, `time`, `msg`), written to `stream`.
 * @param level minimum level written; defaults to LOG_LEVEL from the environment, else `info`
 */
export function jsonLogger(
  bindings: LogFields = {},
  level: LogLevel = (process.env.LOG_LEVEL as LogLevel | undefined) ?? 'info',
  stream: NodeJS.WritableStream = process.stderr,
): Logger {
  const threshold = LEVEL_ORDER[level] ?? LEVEL_ORDER.info;
  const write = (lineLevel: Exclude<LogLevel, 'silent'>, message: string, fields?: LogFields): void => {
    if (LEVEL_ORDER[lineLevel] < threshold) return;
    const line = { level: lineLevel, time: new Date().toISOString(), msg: message, ...bindings, ...serialise(fields) };
    stream.write(`${JSON.stringify(line)}\n`);
  };
  return {
    debug: (message, fields) => write('debug', message, fields),
    info: (message, fields) => write('info', message, fields),
    warn: (message, fields) => write('warn', message, fields),
    error: (message, fields) => write('error', message, fields),
  };
}

/** Errors don't survive JSON.stringify; keep their message (and name when it says something). */
function serialise(fields: LogFields | undefined): LogFields | undefined {
  if (!fields) return fields;
  const out: LogFields = {};
  for (const [key, value] of Object.entries(fields)) {
    out[key] = value instanceof Error ? { name: value.name, message: value.message } : value;
  }
  return out;
}

/** Message of an unknown thrown value. */
export function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
