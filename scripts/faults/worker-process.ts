/**
 * The Worker under wrangler (workerd, Durable Objects, queues and crons local, state kept in
 * `persistTo`) in a process of its own, so the harness can kill it as a crash would: SIGKILL to
 * its workerd processes, then to this one. Started with its options as JSON in FAULTS_WORKER;
 * tells its parent `{ type: "ready", url }` once /health answers 200.
 */
import { startWorker } from "../bench/souk.ts";

const opts = JSON.parse(process.env.FAULTS_WORKER ?? "{}") as {
  vars: Record<string, string>;
  persistTo: string;
  port: number;
  logFile: string;
};
process.env.WRANGLER_LOG ??= "error";
const worker = await startWorker(opts);
process.on("SIGTERM", () => void worker.stop().finally(() => process.exit(0)));
process.on("disconnect", () => void worker.stop().finally(() => process.exit(0)));
process.send?.({ type: "ready", url: worker.url });
