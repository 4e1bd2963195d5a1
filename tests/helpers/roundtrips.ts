import {
  neonConfig,
  type WebSocketConstructor,
  type WebSocketLike,
} from "@neondatabase/serverless";

/** Postgres round trips seen during one `countRoundTrips` callback. */
export interface RoundTrips {
  /** HTTP requests of the driver's `neon()` / `transaction()`: one per query or per batch. */
  http: number;
  /** WebSockets the Pool opened: each is at least one round trip before its first query. */
  wsConnections: number;
  /**
   * Times a Pool connection sent a query and waited for Postgres: each simple Query ('Q') or
   * extended-protocol Sync ('S') message, so BEGIN and COMMIT count like any statement.
   */
  wsQueries: number;
  total: number;
}

const QUERY = 0x51; // 'Q'
const SYNC = 0x53; // 'S'

/**
 * Follows the frontend half of the Postgres protocol across WebSocket sends (a send may hold
 * several messages, or part of one) and counts the messages that end a request.
 */
class TurnCounter {
  private header = new Uint8Array(0);
  private skip = 0;
  private started = false;

  /** Feeds client bytes; returns how many Query or Sync messages began in them. */
  push(chunk: Uint8Array): number {
    let turns = 0;
    let offset = 0;
    while (offset < chunk.length) {
      if (this.skip > 0) {
        const n = Math.min(this.skip, chunk.length - offset);
        this.skip -= n;
        offset += n;
        continue;
      }
      // Before the startup message, messages are untyped: length, then a request code.
      const need = this.started ? 5 : 8;
      const take = Math.min(need - this.header.length, chunk.length - offset);
      const header = new Uint8Array(this.header.length + take);
      header.set(this.header);
      header.set(chunk.subarray(offset, offset + take), this.header.length);
      this.header = header;
      offset += take;
      if (header.length < need) break;
      const view = new DataView(header.buffer);
      if (this.started) {
        if (header[0] === QUERY || header[0] === SYNC) turns += 1;
        this.skip = view.getInt32(1) - 4;
      } else {
        // Protocol 3.x marks the StartupMessage; an SSL request keeps us untyped.
        if (view.getInt32(4) >>> 16 === 3) this.started = true;
        this.skip = view.getInt32(0) - 8;
      }
      this.header = new Uint8Array(0);
    }
    return turns;
  }
}

function bytesOf(data: unknown): Uint8Array | null {
  if (data instanceof ArrayBuffer) return new Uint8Array(data);
  if (ArrayBuffer.isView(data))
    return new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
  return null;
}

/**
 * Counts the Postgres round trips the Worker's code makes while `fn` runs, by wrapping the Neon
 * driver's `fetchFunction` (HTTP mode) and `webSocketConstructor` (Pool mode). The test and the
 * Worker reached through `exports.default.fetch` share one driver module inside the vitest
 * plugin, so this sees the Worker's queries too. Work left running after `fn` settles (a
 * `waitUntil`) is not counted. Not reentrant: one count at a time per isolate.
 */
export async function countRoundTrips<T>(
  fn: () => Promise<T>,
): Promise<{ result: T; roundTrips: RoundTrips }> {
  const counts = { http: 0, wsConnections: 0, wsQueries: 0 };
  const previousFetch = neonConfig.fetchFunction as typeof fetch | undefined;
  const previousWebSocket = neonConfig.webSocketConstructor;
  // The driver's own choice when none is set: the global WebSocket (workerd has a client one).
  const BaseWebSocket: WebSocketConstructor = previousWebSocket ?? WebSocket;

  neonConfig.fetchFunction = (input: RequestInfo | URL, init?: RequestInit) => {
    counts.http += 1;
    return (previousFetch ?? fetch)(input, init);
  };
  // A constructor function that returns the real socket with `send` wrapped: workerd's
  // WebSocket is a host object, safer to decorate than to subclass.
  function CountingWebSocket(url: string, protocols?: string | string[]): WebSocketLike {
    const ws = new BaseWebSocket(url, protocols);
    counts.wsConnections += 1;
    const turns = new TurnCounter();
    const send = ws.send.bind(ws);
    ws.send = (data: unknown) => {
      const bytes = bytesOf(data);
      if (bytes) counts.wsQueries += turns.push(bytes);
      send(data);
    };
    return ws;
  }
  neonConfig.webSocketConstructor = CountingWebSocket as unknown as WebSocketConstructor;

  try {
    const result = await fn();
    return {
      result,
      roundTrips: { ...counts, total: counts.http + counts.wsConnections + counts.wsQueries },
    };
  } finally {
    neonConfig.fetchFunction = previousFetch;
    neonConfig.webSocketConstructor = previousWebSocket;
  }
}
