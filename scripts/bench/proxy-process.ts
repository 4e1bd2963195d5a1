/**
 * The delaying proxy in a process of its own, so its timers are not held up by the servers it
 * sits between. Argument: the target `host:port`. Tells its parent `{ type: "ready", port }`,
 * then obeys `{ type: "rtt", ms }` (answered with `{ type: "rtt-set", ms }`).
 */
import { startDelayProxy } from "./delay-proxy.ts";

const [host, port] = (process.argv[2] ?? "").split(/:(?=\d+$)/);
if (!host || !port) throw new Error("usage: proxy-process.ts host:port");

const proxy = await startDelayProxy({ targetHost: host, targetPort: Number(port) });
process.on("message", (m: { type?: string; ms?: number }) => {
  if (m.type === "rtt" && typeof m.ms === "number") {
    proxy.setRtt(m.ms);
    process.send?.({ type: "rtt-set", ms: m.ms });
  }
});
process.on("SIGTERM", () => {
  void proxy.close().then(() => process.exit(0));
});
process.on("disconnect", () => process.exit(0));
process.send?.({ type: "ready", port: proxy.port });
