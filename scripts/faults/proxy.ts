/**
 * A TCP pass-through the harness puts between the Worker and one peer (the Neon bridges, the
 * Upstash REST bridge, the Stripe emulator), so a fault is a real network fault seen by the real
 * drivers: `down` resets every connection and refuses new ones (the port stays bound, so the
 * peer comes back at the same address), `blackhole` accepts and answers nothing (a peer gone
 * silent mid-request), `delay` holds each answer that long.
 */
import net from "node:net";

export type ProxyMode = { kind: "up" } | { kind: "down" } | { kind: "blackhole" };

export interface FaultProxy {
  name: string;
  /** `127.0.0.1:port`, what the Worker is given in place of the peer's address. */
  address: string;
  port: number;
  set(mode: ProxyMode["kind"]): void;
  /** Each chunk from the peer is held this long before it reaches the Worker (0: none). */
  delay(ms: number): void;
  close(): Promise<void>;
}

/** Listens on `port` (0: any) and forwards to `target` (`host:port`). */
export async function startFaultProxy(
  name: string,
  target: string,
  port: number,
): Promise<FaultProxy> {
  const [host = "127.0.0.1", targetPort = "0"] = target.split(/:(?=\d+$)/);
  let mode: ProxyMode["kind"] = "up";
  let delayMs = 0;
  const open = new Set<net.Socket>();

  const server = net.createServer((client) => {
    open.add(client);
    client.on("close", () => open.delete(client));
    client.on("error", () => {});
    if (mode === "down") {
      client.resetAndDestroy();
      return;
    }
    if (mode === "blackhole") {
      client.on("data", () => {});
      return;
    }
    const upstream = net.connect({ host, port: Number(targetPort) });
    open.add(upstream);
    upstream.on("close", () => {
      open.delete(upstream);
      client.destroy();
    });
    upstream.on("error", () => client.destroy());
    client.on("close", () => upstream.destroy());
    client.on("data", (chunk) => {
      if (mode === "blackhole") return;
      upstream.write(chunk);
    });
    // Answers keep their order under a delay: each is written after the one before it.
    let tail = Promise.resolve();
    upstream.on("data", (chunk) => {
      if (mode === "blackhole") return;
      // Each chunk is due `delay` after it arrived, not after the one before it was written:
      // an answer in several chunks is late by the delay once, not once per chunk.
      const due = Date.now() + delayMs;
      tail = tail.then(async () => {
        const wait = due - Date.now();
        if (wait > 0) await new Promise((r) => setTimeout(r, wait));
        if (!client.destroyed) client.write(chunk);
      });
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, "127.0.0.1", () => resolve());
  });
  const address = server.address();
  const bound = typeof address === "object" && address ? address.port : port;
  return {
    name,
    port: bound,
    address: `127.0.0.1:${bound}`,
    set(next) {
      mode = next;
      if (next === "down") for (const s of open) s.resetAndDestroy();
    },
    delay(ms) {
      delayMs = ms;
    },
    close() {
      for (const s of open) s.destroy();
      return new Promise((resolve) => server.close(() => resolve()));
    },
  };
}
