import type { AddressInfo } from "node:net";
import net from "node:net";
import { WebSocketServer } from "ws";

export interface PgWsBridge {
  port: number;
  close(): Promise<void>;
}

// The bridge forwards raw bytes to whatever the client names, so it must never become an open
// proxy: only the loopback interface is reachable through it.
const LOOPBACK_HOSTS = new Set(["127.0.0.1", "localhost", "::1"]);

/** Splits `host:port`, `[v6]:port` or `v6:port` (the Neon driver does not bracket IPv6). */
export function parseAddress(address: string): { host: string; port: number } | null {
  const bracketed = /^\[([^\]]+)\]:(\d+)$/.exec(address);
  const match = bracketed ?? /^(.+):(\d+)$/.exec(address);
  if (!match?.[1] || !match[2]) return null;
  const port = Number(match[2]);
  if (!Number.isInteger(port) || port < 1 || port > 65_535) return null;
  return { host: match[1], port };
}

const TERMINATE = 0x58; // 'X'

/**
 * Follows the frontend half of the Postgres protocol just far enough to spot Terminate. The Neon
 * driver's `end()` sends Terminate and waits for the server to hang up; Postgres does, but
 * PGlite's socket server ignores it, so without this every closed Pool would leak a connection.
 */
export class TerminateWatcher {
  private header = Buffer.alloc(0);
  private skip = 0;
  private started = false;

  /** Feeds client bytes; true once a Terminate message has gone by. */
  push(chunk: Buffer): boolean {
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
      this.header = Buffer.concat([this.header, chunk.subarray(offset, offset + take)]);
      offset += take;
      if (this.header.length < need) return false;
      if (this.started) {
        if (this.header[0] === TERMINATE) return true;
        this.skip = this.header.readInt32BE(1) - 4;
      } else {
        // Protocol 3.x marks the StartupMessage; SSL, GSS and cancel requests keep us untyped.
        if (this.header.readInt32BE(4) >>> 16 === 3) this.started = true;
        this.skip = this.header.readInt32BE(0) - 8;
      }
      this.header = Buffer.alloc(0);
    }
    return false;
  }
}

/**
 * Starts a WebSocket-to-TCP bridge so the Neon serverless driver, running inside workerd, can
 * reach a local Postgres: each WebSocket connection `/v2?address=host:port` is piped to a TCP
 * socket opened to that (loopback-only) address.
 *
 * `maxUpstream` makes it behave like the pooler in front of Neon: at most that many Postgres
 * connections at once, later WebSockets waiting (first come, first served) with their bytes
 * buffered. Without it, 200 concurrent requests would open 200 connections and a local server
 * (max_connections 100) would refuse half of them, which production never does.
 */
export async function startPgWsBridge(
  opts: { port?: number; host?: string; maxUpstream?: number } = {},
): Promise<PgWsBridge> {
  const wss = new WebSocketServer({ port: opts.port ?? 0, host: opts.host ?? "127.0.0.1" });
  const sockets = new Set<net.Socket>();
  const maxUpstream = opts.maxUpstream ?? Number.POSITIVE_INFINITY;
  let active = 0;
  const waiting: Array<() => void> = [];
  const release = () => {
    active -= 1;
    const next = waiting.shift();
    if (next) {
      active += 1;
      next();
    }
  };

  wss.on("connection", (ws, req) => {
    const url = new URL(req.url ?? "/", "ws://bridge");
    const target = parseAddress(url.searchParams.get("address") ?? "");
    if (!target || !LOOPBACK_HOSTS.has(target.host)) {
      // 1008: policy violation. The reason reaches the driver's error message.
      ws.close(1008, "address must be a loopback host:port");
      return;
    }
    const dest = target;
    let socket: net.Socket | null = null;
    const pending: Buffer[] = [];
    const watcher = new TerminateWatcher();
    let terminated = false;
    let closed = false;
    let holdsSlot = false;

    const closeBoth = () => {
      if (closed) return;
      closed = true;
      const queued = waiting.indexOf(open);
      if (queued >= 0) waiting.splice(queued, 1);
      if (socket) {
        sockets.delete(socket);
        socket.destroy();
      }
      if (holdsSlot) {
        holdsSlot = false;
        release();
      }
      if (ws.readyState === ws.OPEN || ws.readyState === ws.CONNECTING) ws.close();
    };

    const write = (chunk: Buffer) => {
      if (!socket) return;
      if (watcher.push(chunk)) {
        // Hang up as Postgres does after Terminate (the client waits for exactly that): our FIN
        // closes the TCP connection, and its close closes the WebSocket.
        terminated = true;
        socket.end(chunk);
        return;
      }
      // Backpressure: stop reading the WebSocket while Postgres is slower than the client.
      if (!socket.write(chunk)) ws.pause();
    };

    function open(): void {
      holdsSlot = true;
      if (closed) {
        holdsSlot = false;
        release();
        return;
      }
      const s = net.connect({ host: dest.host, port: dest.port });
      socket = s;
      sockets.add(s);
      s.setNoDelay(true);
      s.on("drain", () => ws.resume());
      s.on("data", (chunk) => ws.send(chunk, { binary: true }));
      s.on("close", closeBoth);
      s.on("error", closeBoth);
      // Bytes that came while we waited for a slot; net buffers them until the connect completes.
      for (const chunk of pending.splice(0)) {
        if (terminated) break;
        write(chunk);
      }
    }

    ws.on("message", (data) => {
      const chunk = Array.isArray(data)
        ? Buffer.concat(data)
        : Buffer.isBuffer(data)
          ? data
          : Buffer.from(data);
      if (terminated) return;
      if (socket) write(chunk);
      else pending.push(chunk);
    });
    ws.on("close", closeBoth);
    ws.on("error", closeBoth);

    if (active < maxUpstream) {
      active += 1;
      open();
    } else {
      waiting.push(open);
    }
  });

  await new Promise<void>((resolve, reject) => {
    wss.once("listening", resolve);
    wss.once("error", reject);
  });
  const { port } = wss.address() as AddressInfo;

  let closing: Promise<void> | null = null;
  return {
    port,
    close() {
      closing ??= new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy();
        for (const client of wss.clients) client.terminate();
        wss.close(() => resolve());
      });
      return closing;
    },
  };
}
