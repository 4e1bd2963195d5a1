import net from "node:net";
import tls from "node:tls";

/*
 * Talking to Redis from the stack scripts: a reachability probe, and a minimal RESP2 client that
 * is binary-safe (bulk strings stay Buffers), keeps errors as values, and pipelines by writing a
 * batch of commands in one write. The REST bridge uses it rather than a full client library so it
 * can pass any command through unchanged and see exactly what Redis answered.
 */

/** An error reply from Redis (`-ERR ...`), kept as a value so pipelines can carry it. */
export class RespError {
  readonly message: string;
  constructor(message: string) {
    this.message = message;
  }
}

/** `+simple` is a string, `$bulk` a Buffer, `:int` a number, nil is null. */
export type RespValue = string | Buffer | number | null | RespError | RespValue[];

export type RespArg = string | Buffer;

const CRLF = Buffer.from("\r\n");

export function encodeCommand(args: readonly RespArg[]): Buffer {
  const parts: Buffer[] = [Buffer.from(`*${args.length}\r\n`)];
  for (const arg of args) {
    const bytes = typeof arg === "string" ? Buffer.from(arg) : arg;
    parts.push(Buffer.from(`$${bytes.length}\r\n`), bytes, CRLF);
  }
  return Buffer.concat(parts);
}

interface Parsed {
  value: RespValue;
  next: number;
}

/** Parses one reply at `offset`, or returns null when the buffer does not hold all of it yet. */
export function parseReply(buf: Buffer, offset: number): Parsed | null {
  const lineEnd = buf.indexOf(CRLF, offset);
  if (lineEnd === -1) return null;
  const type = String.fromCharCode(buf[offset] ?? 0);
  const line = buf.toString("utf8", offset + 1, lineEnd);
  const after = lineEnd + 2;
  switch (type) {
    case "+":
      return { value: line, next: after };
    case "-":
      return { value: new RespError(line), next: after };
    case ":":
      return { value: Number(line), next: after };
    case "$": {
      const len = Number(line);
      if (len < 0) return { value: null, next: after };
      if (buf.length < after + len + 2) return null;
      return { value: buf.subarray(after, after + len), next: after + len + 2 };
    }
    case "*": {
      const count = Number(line);
      if (count < 0) return { value: null, next: after };
      const items: RespValue[] = [];
      let next = after;
      for (let i = 0; i < count; i++) {
        const item = parseReply(buf, next);
        if (!item) return null;
        items.push(item.value);
        next = item.next;
      }
      return { value: items, next };
    }
    default:
      throw new Error(`unexpected RESP type byte ${JSON.stringify(type)}`);
  }
}

interface Pending {
  resolve(value: RespValue): void;
  reject(error: Error): void;
}

export interface RedisTarget {
  host: string;
  port: number;
  tls: boolean;
  username?: string | undefined;
  password?: string | undefined;
  db?: number | undefined;
}

export function parseRedisUrl(redisUrl: string): RedisTarget {
  const url = new URL(redisUrl);
  if (url.protocol !== "redis:" && url.protocol !== "rediss:") {
    throw new Error(`unsupported Redis URL protocol ${url.protocol} (use redis:// or rediss://)`);
  }
  const dbPath = url.pathname.replace(/^\//, "");
  return {
    host: url.hostname.replace(/^\[|\]$/g, "") || "127.0.0.1",
    port: url.port ? Number(url.port) : 6379,
    tls: url.protocol === "rediss:",
    username: url.username ? decodeURIComponent(url.username) : undefined,
    password: url.password ? decodeURIComponent(url.password) : undefined,
    db: dbPath ? Number(dbPath) : undefined,
  };
}

/** One connection; replies come back in the order commands were written. */
export class RespConnection {
  private readonly socket: net.Socket;
  private readonly pending: Pending[] = [];
  private buffer: Buffer = Buffer.alloc(0);
  private failure: Error | null = null;
  readonly ready: Promise<void>;

  constructor(target: RedisTarget, connectTimeoutMs = 5_000) {
    const socket = target.tls
      ? tls.connect({ host: target.host, port: target.port, servername: target.host })
      : net.connect({ host: target.host, port: target.port });
    this.socket = socket;
    socket.setNoDelay(true);
    // Until the handshake answers, silence means an unreachable or wrong server.
    socket.setTimeout(connectTimeoutMs, () => {
      this.fail(new Error(`Redis at ${target.host}:${target.port} did not answer in time`));
    });
    socket.on("data", (chunk: Buffer) => this.onData(chunk));
    socket.on("error", (error) => this.fail(error));
    socket.on("close", () => this.fail(new Error("Redis connection closed")));

    const setup: RespArg[][] = [];
    if (target.password !== undefined) {
      setup.push(
        target.username ? ["AUTH", target.username, target.password] : ["AUTH", target.password],
      );
    }
    if (target.db !== undefined && target.db !== 0) setup.push(["SELECT", String(target.db)]);
    this.ready = (async () => {
      const replies = setup.length > 0 ? await this.send(setup) : [await this.send1(["PING"])];
      socket.setTimeout(0);
      for (const reply of replies) {
        if (reply instanceof RespError) throw new Error(`Redis setup failed: ${reply.message}`);
      }
    })();
    // Callers observe failures through `ready` or `send`; never as an unhandled rejection.
    this.ready.catch(() => {});
  }

  get inFlight(): number {
    return this.pending.length;
  }

  get usable(): boolean {
    return this.failure === null;
  }

  /** Writes the batch in one write, so nothing from another caller lands between its commands. */
  send(commands: readonly (readonly RespArg[])[]): Promise<RespValue[]> {
    if (this.failure) return Promise.reject(this.failure);
    const replies = commands.map(
      () =>
        new Promise<RespValue>((resolve, reject) => {
          this.pending.push({ resolve, reject });
        }),
    );
    this.socket.write(Buffer.concat(commands.map(encodeCommand)));
    return Promise.all(replies);
  }

  async send1(command: readonly RespArg[]): Promise<RespValue> {
    const [reply] = await this.send([command]);
    return reply ?? null;
  }

  close(): void {
    this.fail(new Error("Redis connection closed by the bridge"));
  }

  private onData(chunk: Buffer): void {
    this.buffer = this.buffer.length === 0 ? chunk : Buffer.concat([this.buffer, chunk]);
    let offset = 0;
    try {
      for (;;) {
        if (offset >= this.buffer.length) break;
        const parsed = parseReply(this.buffer, offset);
        if (!parsed) break;
        offset = parsed.next;
        const waiter = this.pending.shift();
        if (!waiter) throw new Error("Redis sent a reply nobody asked for");
        waiter.resolve(parsed.value);
      }
    } catch (error) {
      this.fail(error instanceof Error ? error : new Error(String(error)));
      return;
    }
    // Copy the tail so a large reply's buffer is not kept alive by a small remainder.
    this.buffer = offset === 0 ? this.buffer : Buffer.from(this.buffer.subarray(offset));
  }

  private fail(error: Error): void {
    if (!this.failure) this.failure = error;
    for (const waiter of this.pending.splice(0)) waiter.reject(error);
    this.socket.destroy();
  }
}

/**
 * A few connections used least-busy first, so one slow command (a blocking pop, a long script)
 * does not stall every other request.
 */
export class RespPool {
  private readonly target: RedisTarget;
  private readonly size: number;
  private connections: RespConnection[] = [];
  private closed = false;

  constructor(target: RedisTarget, size = 8) {
    this.target = target;
    this.size = size;
  }

  async send(commands: readonly (readonly RespArg[])[]): Promise<RespValue[]> {
    const connection = this.pick();
    await connection.ready;
    return connection.send(commands);
  }

  close(): void {
    this.closed = true;
    for (const connection of this.connections) connection.close();
    this.connections = [];
  }

  private pick(): RespConnection {
    if (this.closed) throw new Error("the Redis pool is closed");
    this.connections = this.connections.filter((c) => c.usable);
    let best: RespConnection | undefined;
    for (const connection of this.connections) {
      if (!best || connection.inFlight < best.inFlight) best = connection;
    }
    if (best && (best.inFlight === 0 || this.connections.length >= this.size)) return best;
    const fresh = new RespConnection(this.target);
    this.connections.push(fresh);
    return fresh;
  }
}

/** True when a Redis answers PING at `redisUrl` within `timeoutMs`. */
export async function probeRedis(redisUrl: string, timeoutMs = 1_000): Promise<boolean> {
  let connection: RespConnection | undefined;
  try {
    connection = new RespConnection(parseRedisUrl(redisUrl), timeoutMs);
    await connection.ready;
    const reply = await connection.send1(["PING"]);
    return reply === "PONG";
  } catch {
    return false;
  } finally {
    connection?.close();
  }
}
