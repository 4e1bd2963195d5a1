/**
 * Delaying proxies (./delay-proxy.ts) in a process of their own, so their timers are not held up
 * by the servers they sit between. One proxy per argument, `name=host:port` (a bare `host:port`
 * is named `pg`); all share one RTT.
 *
 * Messages: tells its parent `{ type: "ready", port, ports: { name: port } }` (`port`: the first
 * proxy's), then obeys `{ type: "rtt", ms }` → `{ type: "rtt-set", ms }` and
 * `{ type: "counts" }` → `{ type: "counts", counts: { name: ProxyCounts } }` (totals since start).
 */
import { type DelayProxy, startDelayProxy } from "./delay-proxy.ts";

const targets = process.argv.slice(2).map((arg) => {
  const named = /^([\w-]+)=(.+)$/.exec(arg);
  const name = named?.[1] ?? "pg";
  const [host, port] = (named?.[2] ?? arg).split(/:(?=\d+$)/);
  if (!host || !port) throw new Error("usage: proxy-process.ts [name=]host:port ...");
  return { name, host, port: Number(port) };
});
if (targets.length === 0) throw new Error("usage: proxy-process.ts [name=]host:port ...");

const proxies = new Map<string, DelayProxy>();
for (const t of targets) {
  proxies.set(t.name, await startDelayProxy({ targetHost: t.host, targetPort: t.port }));
}
process.on("message", (m: { type?: string; ms?: number }) => {
  if (m.type === "rtt" && typeof m.ms === "number") {
    for (const proxy of proxies.values()) proxy.setRtt(m.ms);
    process.send?.({ type: "rtt-set", ms: m.ms });
  } else if (m.type === "counts") {
    const counts = Object.fromEntries([...proxies].map(([name, p]) => [name, p.counts()]));
    process.send?.({ type: "counts", counts });
  }
});
process.on("SIGTERM", () => {
  void Promise.all([...proxies.values()].map((p) => p.close())).then(() => process.exit(0));
});
process.on("disconnect", () => process.exit(0));
const ports = Object.fromEntries([...proxies].map(([name, p]) => [name, p.port]));
process.send?.({ type: "ready", port: Object.values(ports)[0], ports });
