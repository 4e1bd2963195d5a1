import { mkdir, open, readFile, rm, writeFile } from "node:fs/promises";
import net from "node:net";
import path from "node:path";
import { PGlite } from "@electric-sql/pglite";

export interface PgliteServer {
  url: string;
  close(): Promise<void>;
}

export interface PgliteLock {
  pid: number;
  /** Where the holder serves the database, so another command can use it instead. */
  url?: string;
}

function lockPath(dataDir: string): string {
  return `${path.resolve(dataDir)}.lock`;
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    // EPERM: it exists but belongs to someone else; still alive.
    return (error as NodeJS.ErrnoException).code === "EPERM";
  }
}

/** The live process holding `dataDir`, or null when it is free (a stale lock counts as free). */
export async function readPgliteLock(dataDir: string): Promise<PgliteLock | null> {
  try {
    const lock = JSON.parse(await readFile(lockPath(dataDir), "utf8")) as PgliteLock;
    return typeof lock.pid === "number" && isAlive(lock.pid) ? lock : null;
  } catch {
    return null;
  }
}

/**
 * PGlite takes no lock of its own: two processes opening one data directory would corrupt it.
 * The lock file sits beside the directory, not in it, so Postgres never sees a stranger's file.
 */
async function acquireLock(dataDir: string): Promise<(url: string) => Promise<void>> {
  const file = lockPath(dataDir);
  const holder = await readPgliteLock(dataDir);
  if (holder) {
    throw new Error(
      `${dataDir} is in use by process ${holder.pid} (a running \`npm run dev\`?). ` +
        "PGlite's data directory can be opened by one process at a time; stop it first.",
    );
  }
  await rm(file, { force: true });
  // "wx" fails if another process won the race between our check and this write.
  const handle = await open(file, "wx");
  await handle.writeFile(JSON.stringify({ pid: process.pid } satisfies PgliteLock));
  await handle.close();
  return async (url) => {
    await writeFile(file, JSON.stringify({ pid: process.pid, url } satisfies PgliteLock));
  };
}

async function releaseLock(dataDir: string): Promise<void> {
  const holder = await readPgliteLock(dataDir);
  if (holder?.pid === process.pid) await rm(lockPath(dataDir), { force: true });
}

/*
 * Why not @electric-sql/pglite-socket's PGLiteSocketServer: PGlite is one Postgres session, and
 * that server interleaves clients message by message. Another client's Parse or Sync can land
 * between one client's Parse and Bind; under the test suite's load that surfaced as
 * "unnamed prepared statement does not exist". Here a client holds the session from its first
 * message until Postgres reports it idle again (ReadyForQuery 'I'): a whole extended-protocol
 * exchange, or a whole transaction, runs without strangers in between.
 */

const SSL_REQUEST = 80_877_103;
const GSSENC_REQUEST = 80_877_104;
const CANCEL_REQUEST = 80_877_102;
const TERMINATE = 0x58; // 'X'
const READY_FOR_QUERY = 0x5a; // 'Z'
const IDLE = 0x49; // 'I'
const SYNC = Uint8Array.of(0x53, 0, 0, 0, 4);

/** Hands PGlite's single session to one connection at a time, first come first served. */
class SessionLock {
  private holder: number | null = null;
  private readonly waiting: { id: number; settle: (granted: boolean) => void }[] = [];

  /** Resolves true when `id` holds the session, false if it gave up waiting (disconnected). */
  acquire(id: number): Promise<boolean> {
    if (this.holder === null || this.holder === id) {
      this.holder = id;
      return Promise.resolve(true);
    }
    return new Promise((settle) => this.waiting.push({ id, settle }));
  }

  holds(id: number): boolean {
    return this.holder === id;
  }

  release(id: number): void {
    const index = this.waiting.findIndex((w) => w.id === id);
    if (index !== -1) this.waiting.splice(index, 1)[0]?.settle(false);
    if (this.holder !== id) return;
    const next = this.waiting.shift();
    this.holder = next ? next.id : null;
    next?.settle(true);
  }
}

interface FrontendMessage {
  bytes: Buffer;
  /** Before and including the StartupMessage, messages carry a request code, not a type. */
  untyped: boolean;
}

/** Cuts the client's byte stream into protocol messages. */
class FrontendFramer {
  private buffer = Buffer.alloc(0);
  private started = false;

  push(chunk: Buffer): FrontendMessage[] {
    this.buffer = this.buffer.length === 0 ? chunk : Buffer.concat([this.buffer, chunk]);
    const messages: FrontendMessage[] = [];
    for (;;) {
      if (!this.started) {
        if (this.buffer.length < 8) break;
        const length = this.buffer.readInt32BE(0);
        if (this.buffer.length < length) break;
        // Protocol 3.x marks the StartupMessage; SSL, GSS and cancel requests come before it.
        if (this.buffer.readInt32BE(4) >>> 16 === 3) this.started = true;
        messages.push({ bytes: this.buffer.subarray(0, length), untyped: true });
        this.buffer = this.buffer.subarray(length);
      } else {
        if (this.buffer.length < 5) break;
        const length = 1 + this.buffer.readInt32BE(1);
        if (this.buffer.length < length) break;
        messages.push({ bytes: this.buffer.subarray(0, length), untyped: false });
        this.buffer = this.buffer.subarray(length);
      }
    }
    return messages;
  }
}

/** Follows the server's replies just far enough to see the last ReadyForQuery status. */
class ReadyTracker {
  private header: number[] = [];
  private skip = 0;
  private wantStatus = false;
  status: number | null = null;

  push(data: Uint8Array): void {
    let offset = 0;
    while (offset < data.length) {
      if (this.skip > 0) {
        if (this.wantStatus) {
          this.status = data[offset] ?? null;
          this.wantStatus = false;
        }
        const n = Math.min(this.skip, data.length - offset);
        this.skip -= n;
        offset += n;
        continue;
      }
      this.header.push(data[offset] ?? 0);
      offset += 1;
      if (this.header.length < 5) continue;
      const [type = 0, b1 = 0, b2 = 0, b3 = 0, b4 = 0] = this.header;
      this.skip = ((b1 << 24) | (b2 << 16) | (b3 << 8) | b4) - 4;
      this.wantStatus = type === READY_FOR_QUERY && this.skip === 1;
      this.header = [];
    }
  }
}

function serveConnection(db: PGlite, lock: SessionLock, socket: net.Socket, id: number): void {
  socket.setNoDelay(true);
  const framer = new FrontendFramer();
  let chain: Promise<void> = Promise.resolve();
  let closed = false;

  const handle = async ({ bytes, untyped }: FrontendMessage): Promise<void> => {
    if (closed) return;
    if (untyped && bytes.length === 8) {
      const code = bytes.readInt32BE(4);
      // No TLS locally: 'N' tells the client to go on in plain text.
      if (code === SSL_REQUEST || code === GSSENC_REQUEST) socket.write("N");
      return;
    }
    if (untyped && bytes.readInt32BE(4) === CANCEL_REQUEST) {
      socket.end();
      return;
    }
    if (!untyped && bytes[0] === TERMINATE) {
      socket.end();
      return;
    }
    if (!(await lock.acquire(id)) || closed) return;
    const tracker = new ReadyTracker();
    await db.runExclusive(() =>
      db.execProtocolRawStream(new Uint8Array(bytes), {
        onRawData: (data) => {
          tracker.push(data);
          if (!closed) socket.write(data);
        },
      }),
    );
    if (tracker.status === IDLE) lock.release(id);
  };

  // A client that vanishes while holding the session must not leave its transaction (or a
  // half-sent extended-protocol exchange) to the next one.
  const cleanUp = async (): Promise<void> => {
    if (lock.holds(id)) {
      try {
        await db.runExclusive(() => db.execProtocolRawStream(SYNC, { onRawData: () => {} }));
        if (db.isInTransaction()) await db.exec("ROLLBACK");
      } catch {
        // The session is reset as far as it can be; the next client gets a clean error if not.
      }
    }
    lock.release(id);
  };

  socket.on("data", (chunk: Buffer) => {
    for (const message of framer.push(chunk)) {
      chain = chain.then(() => handle(message));
    }
    chain = chain.catch(() => {
      socket.destroy();
    });
  });
  socket.on("error", () => socket.destroy());
  socket.on("close", () => {
    closed = true;
    lock.release(id); // stops waiting, if it was
    chain = chain.then(cleanUp);
  });
}

/** How many clients the embedded database keeps open at once unless told otherwise. */
export const DEFAULT_PGLITE_MAX_CONNECTIONS = 1_000;

const ZERO = Buffer.alloc(1);

/**
 * Postgres's own answer when it has no room: an ErrorResponse with SQLSTATE 53300, so the client
 * reports a clear "too many clients" error (the Worker answers 503) instead of a socket that
 * closes for no stated reason.
 */
function tooManyClients(max: number): Buffer {
  const field = (type: string, value: string) => Buffer.concat([Buffer.from(type + value), ZERO]);
  const fields = Buffer.concat([
    field("S", "FATAL"),
    field("V", "FATAL"),
    field("C", "53300"),
    field("M", `sorry, too many clients already (the embedded database serves ${max})`),
    ZERO,
  ]);
  const header = Buffer.alloc(5);
  header.write("E", 0);
  header.writeInt32BE(4 + fields.length, 1);
  return Buffer.concat([header, fields]);
}

/**
 * Serves an embedded PGlite on the Postgres wire protocol at 127.0.0.1. `dataDir` persists the
 * database there; without it the database lives in memory and is gone on close.
 *
 * PGlite is one session, so clients take it in turns: one exchange or transaction at a time, a
 * client inside a transaction holding the others back until it commits or rolls back. Every
 * connected client waits for its turn in one first-come-first-served queue, so a burst of
 * requests waits rather than fails. The queue is bounded by `maxConnections` open clients
 * (default 1,000); one more is refused with Postgres's own "too many clients" error (53300).
 */
export async function startPglite(opts: {
  dataDir?: string;
  port?: number;
  maxConnections?: number;
}): Promise<PgliteServer> {
  const { dataDir } = opts;
  let recordUrl: ((url: string) => Promise<void>) | null = null;
  if (dataDir) {
    await mkdir(path.dirname(path.resolve(dataDir)), { recursive: true });
    recordUrl = await acquireLock(dataDir);
  }
  let db: PGlite;
  try {
    db = await PGlite.create(dataDir ?? "memory://");
  } catch (error) {
    if (dataDir) await releaseLock(dataDir);
    throw error;
  }
  const lock = new SessionLock();
  const sockets = new Set<net.Socket>();
  let nextId = 1;
  // Not net.Server's maxConnections: past it Node drops the socket without a word, which the
  // Neon driver reports as "Connection terminated unexpectedly" and the Worker as a 500. Each
  // request opens its own connections (a Neon Pool per request, plus the HTTP endpoint's pool),
  // so a 300-request burst holds 300+ at once; idle ones cost a socket, not the session.
  const maxConnections = opts.maxConnections ?? DEFAULT_PGLITE_MAX_CONNECTIONS;
  const server = net.createServer((socket) => {
    if (sockets.size >= maxConnections) {
      socket.on("error", () => socket.destroy());
      socket.end(tooManyClients(maxConnections));
      return;
    }
    sockets.add(socket);
    socket.on("close", () => sockets.delete(socket));
    serveConnection(db, lock, socket, nextId++);
  });
  try {
    await new Promise<void>((resolve, reject) => {
      server.once("error", reject);
      server.listen(opts.port ?? 0, "127.0.0.1", () => resolve());
    });
  } catch (error) {
    await db.close();
    if (dataDir) await releaseLock(dataDir);
    throw error;
  }
  const { port } = server.address() as net.AddressInfo;
  const url = `postgres://postgres:postgres@127.0.0.1:${port}/postgres`;
  await recordUrl?.(url);

  let closing: Promise<void> | null = null;
  return {
    url,
    close() {
      closing ??= (async () => {
        const stopped = new Promise<void>((resolve) => server.close(() => resolve()));
        for (const socket of sockets) socket.destroy();
        await stopped;
        // Closing flushes a persisted data directory; skipping it risks a torn write.
        await db.close();
        if (dataDir) await releaseLock(dataDir);
      })();
      return closing;
    },
  };
}
