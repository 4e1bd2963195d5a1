import { errorMessage } from "../../src/lib/error-message.ts";
/**
 * The load generator in its own process (pinned to the other core by the benchmark), so it does
 * not compete with the servers it measures. Obeys `{ type: "run", plan }` with
 * `{ type: "result", result }`, one run at a time.
 */
import { type LoadPlan, runLoad } from "./load.ts";

process.on("message", (m: { type?: string; plan?: LoadPlan }) => {
  if (m.type !== "run" || !m.plan) return;
  runLoad(m.plan).then(
    (result) => process.send?.({ type: "result", result }),
    (err: unknown) => process.send?.({ type: "failed", error: errorMessage(err) }),
  );
});
process.on("disconnect", () => process.exit(0));
process.send?.({ type: "ready" });
