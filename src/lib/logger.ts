export type LogLevel = "debug" | "info" | "warn" | "error";
const order: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40 };

export interface Logger {
  debug(msg: string, fields?: Record<string, unknown>): void;
  info(msg: string, fields?: Record<string, unknown>): void;
  warn(msg: string, fields?: Record<string, unknown>): void;
  error(msg: string, fields?: Record<string, unknown>): void;
  child(fields: Record<string, unknown>): Logger;
}

/**
 * What an error carries that may be a user's text. Drizzle puts a failed query's parameters in
 * its message (`Failed query: …\nparams: a,b`), and so in its stack; Postgres quotes the value
 * it could not read at the end of a message (`invalid input syntax for type uuid: "…"`).
 */
const SQL_PARAMS = /\nparams: [\s\S]*?(?=\n {4}at |$)/g;
const QUOTED_VALUE = /: "[^\n]*"(?=\n|$)/g;

/** A log string without SQL parameters or a value Postgres quoted back. */
export function redact(text: string): string {
  return text.replace(SQL_PARAMS, "\nparams: [redacted]").replace(QUOTED_VALUE, ': "[redacted]"');
}

function redactDeep(value: unknown, depth = 0): unknown {
  if (typeof value === "string") return redact(value);
  if (depth > 3 || value === null || typeof value !== "object") return value;
  if (Array.isArray(value)) return value.map((v) => redactDeep(v, depth + 1));
  // Dates, errors and the like keep their own JSON form.
  const proto = Object.getPrototypeOf(value);
  if (proto !== Object.prototype && proto !== null) return value;
  return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, redactDeep(v, depth + 1)]));
}

/**
 * JSON-lines logger; every line carries the bound fields (the request id, a job name). Warnings
 * and errors, where failures are logged, never carry SQL parameters or quoted values (`redact`).
 */
export function createLogger(
  level: LogLevel = "info",
  bound: Record<string, unknown> = {},
): Logger {
  const emit = (lvl: LogLevel, msg: string, fields?: Record<string, unknown>) => {
    if (order[lvl] < order[level]) return;
    const safe = order[lvl] >= order.warn && fields ? redactDeep(fields) : fields;
    const line = JSON.stringify({
      level: lvl,
      msg,
      ...bound,
      ...(safe as Record<string, unknown> | undefined),
      at: new Date().toISOString(),
    });
    if (lvl === "error") console.error(line);
    else if (lvl === "warn") console.warn(line);
    else console.log(line);
  };
  return {
    debug: (m, f) => emit("debug", m, f),
    info: (m, f) => emit("info", m, f),
    warn: (m, f) => emit("warn", m, f),
    error: (m, f) => emit("error", m, f),
    child: (fields) => createLogger(level, { ...bound, ...fields }),
  };
}

/** Says a thing once per isolate (e.g. "Redis is not configured"), not once per request. */
const said = new Set<string>();
export function logOnce(logger: Logger, key: string, msg: string): void {
  if (said.has(key)) return;
  said.add(key);
  logger.warn(msg);
}
