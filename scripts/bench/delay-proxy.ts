/**
 * A TCP proxy that adds a fixed one-way delay to every chunk in each direction, to put a
 * database "some milliseconds away" on loopback: with `rttMs`, each chunk is held rttMs/2 on the
 * way to the server and rttMs/2 on the way back. 0 is a plain pass-through.
 *
 * Chunks keep their order (one FIFO per direction, released by one timer at the head's due
 * time); changing the RTT affects chunks that arrive afterwards. Node timers have a 1 ms grain,
 * so a half-delay under 1 ms is rounded up by the runtime: measure the effective RTT rather than
 * trust the nominal one (the benchmark does).
 *
 * It also counts the round trips it carries. **One round trip** is one client→server burst
 * answered by the server: per connection, the first client bytes after the server last spoke
 * (or since the connection opened) start a burst, and the first server bytes after that close it
 * and count one. A burst spread over many chunks or messages (a pipelined Parse/Bind/Execute/
 * Sync, a transaction batch in one HTTP request) is one round trip; bytes nobody answers (a
 * Terminate) and bytes the server sends unasked (a notice, a keep-alive ping) count none. That
 * is the number of times a client on this connection had to wait for the other side, which is
 * what an RTT multiplies. The TCP handshake itself is not seen (the proxy accepts locally);
 * new connections are counted apart.
 */
import net from "node:net";

export interface ProxyCounts {
  /** Client→server bursts answered by the server (see above). */
  roundTrips: number;
  /** Connections accepted. */
  connections: number;
  bytesUp: number;
  bytesDown: number;
}

export interface DelayProxy {
  port: number;
  setRtt(ms: number): void;
  rtt(): number;
  /** Sockets open now (two per proxied connection). */
  connections(): number;
  /** Totals since the proxy started (take differences to measure a step). */
  counts(): ProxyCounts;
  close(): Promise<void>;
}

interface Held {
  due: number;
  chunk: Buffer;
}

/**
 * One direction of one connection: bytes from `from`, each written to `to` once it is due.
 * `onData` sees each chunk as it arrives (before the delay), for the round-trip count.
 */
function delayedPipe(
  from: net.Socket,
  to: net.Socket,
  halfDelay: () => number,
  onData: (chunk: Buffer) => void,
): void {
  const queue: Held[] = [];
  let timer: NodeJS.Timeout | null = null;
  let lastDue = 0;

  const write = (chunk: Buffer) => {
    // Backpressure: stop reading the source while the destination is full.
    if (!to.write(chunk)) from.pause();
  };
  to.on("drain", () => from.resume());

  const release = () => {
    timer = null;
    const now = performance.now();
    while (queue.length > 0 && (queue[0]?.due ?? 0) <= now) {
      const held = queue.shift();
      if (held && !to.destroyed) write(held.chunk);
    }
    schedule();
  };
  const schedule = () => {
    const head = queue[0];
    if (timer || !head) return;
    timer = setTimeout(release, Math.max(0, head.due - performance.now()));
  };

  from.on("data", (chunk: Buffer) => {
    onData(chunk);
    const delay = halfDelay();
    if (delay <= 0 && queue.length === 0) {
      write(chunk);
      return;
    }
    // Never due before the chunk ahead of it: a lowered RTT must not reorder the stream.
    lastDue = Math.max(lastDue, performance.now() + delay);
    queue.push({ due: lastDue, chunk });
    schedule();
  });
  from.on("end", () => {
    // Let what is still held go out before the half-close follows it.
    const finish = () => (queue.length === 0 ? to.end() : setTimeout(finish, 1));
    finish();
  });
  const stop = () => {
    if (timer) clearTimeout(timer);
    timer = null;
    queue.length = 0;
  };
  from.on("close", stop);
}

/** Starts the proxy on 127.0.0.1 (a free port unless `port` is given) in front of `target`. */
export async function startDelayProxy(opts: {
  targetHost: string;
  targetPort: number;
  rttMs?: number;
  port?: number;
}): Promise<DelayProxy> {
  let rtt = opts.rttMs ?? 0;
  const half = () => rtt / 2;
  const open = new Set<net.Socket>();
  const counts: ProxyCounts = { roundTrips: 0, connections: 0, bytesUp: 0, bytesDown: 0 };

  // Half-open on both sides: a FIN is passed on only after the bytes held ahead of it, so a
  // client's Terminate still reaches Postgres before the connection closes.
  const server = net.createServer({ allowHalfOpen: true }, (client) => {
    const upstream = net.connect({
      host: opts.targetHost,
      port: opts.targetPort,
      allowHalfOpen: true,
    });
    counts.connections += 1;
    open.add(client);
    open.add(upstream);
    client.setNoDelay(true);
    upstream.setNoDelay(true);
    // True from the first client bytes of a burst until the server's first bytes after them.
    let asking = false;
    delayedPipe(client, upstream, half, (chunk) => {
      counts.bytesUp += chunk.length;
      asking = true;
    });
    delayedPipe(upstream, client, half, (chunk) => {
      counts.bytesDown += chunk.length;
      if (asking) {
        asking = false;
        counts.roundTrips += 1;
      }
    });
    const destroyBoth = () => {
      client.destroy();
      upstream.destroy();
    };
    client.on("error", destroyBoth);
    upstream.on("error", destroyBoth);
    client.on("close", () => open.delete(client));
    upstream.on("close", () => open.delete(upstream));
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(opts.port ?? 0, "127.0.0.1", () => resolve());
  });
  const address = server.address();
  if (!address || typeof address === "string") throw new Error("proxy has no TCP address");

  return {
    port: address.port,
    setRtt(ms: number) {
      if (!Number.isFinite(ms) || ms < 0) throw new Error(`bad RTT ${ms}`);
      rtt = ms;
    },
    rtt: () => rtt,
    connections: () => open.size,
    counts: () => ({ ...counts }),
    close() {
      for (const socket of open) socket.destroy();
      return new Promise((resolve) => server.close(() => resolve()));
    },
  };
}
