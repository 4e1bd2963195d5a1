export type LogLevel = "debug" | "info" | "warn" | "error";
const order: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40 };

export interface Logger {
  debug(msg: string, fields?: Record<string, unknown>): void;
  info(msg: string, fields?: Record<string, unknown>): void;
  warn(msg: string, fields?: Record<string, unknown>): void;
  error(msg: string, fields?: Record<string, unknown>): void;
  child(fields: Record<string, unknown>): Logger;
}

/** JSON-lines logger; every line carries the bound fields (the request id, a job name). */
export function createLogger(
  level: LogLevel = "info",
  bound: Record<string, unknown> = {},
): Logger {
  const emit = (lvl: LogLevel, msg: string, fields?: Record<string, unknown>) => {
    if (order[lvl] < order[level]) return;
    const line = JSON.stringify({
      level: lvl,
      msg,
      ...bound,
      ...fields,
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
