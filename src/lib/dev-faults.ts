/**
 * Fault hooks for `npm run faults` (scripts/faults), live only where ENVIRONMENT is development
 * or test AND the var DEV_FAULT_HOOKS is "1"; production never sets either, so nothing here runs
 * there. Each hook is asked for by the traffic itself, so a Worker started with the hooks on
 * behaves exactly as without them for every other request.
 */

const HOOK_ENVIRONMENTS: readonly string[] = ["development", "test"];

/** Event ids ending `_faultthrow<N>` fail N deliveries; `_faultthrowall`, every delivery. */
const THROW_MARK = /_faultthrow(\d+|all)$/;

export class InjectedFault extends Error {
  override name = "InjectedFault";
}

function hooksOn(env: { ENVIRONMENT?: string; DEV_FAULT_HOOKS?: string }): boolean {
  return env.DEV_FAULT_HOOKS === "1" && HOOK_ENVIRONMENTS.includes(env.ENVIRONMENT ?? "");
}

/**
 * The queue consumer crashing after it applied a message and before it acknowledged it: the
 * message comes back (at-least-once), and the consumer must change nothing the second time.
 * Thrown for `stripe-events` messages whose event id asks for it, on delivery `attempts`.
 */
export function injectConsumerCrash(
  env: { ENVIRONMENT?: string; DEV_FAULT_HOOKS?: string },
  queue: string,
  msg: { body: unknown; attempts: number },
): void {
  if (!hooksOn(env) || queue !== "stripe-events") return;
  const id = (msg.body as { id?: unknown } | null)?.id;
  const mark = typeof id === "string" ? THROW_MARK.exec(id) : null;
  if (!mark) return;
  if (mark[1] === "all" || msg.attempts <= Number(mark[1])) {
    throw new InjectedFault(`injected consumer crash on delivery ${msg.attempts} of ${id}`);
  }
}
