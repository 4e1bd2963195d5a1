import type { Env } from "../env.ts";
import type { ReplayTargets } from "../services/admin/operations.ts";

/** Every queue's producer by queue name: where an admin's dead-letter replay sends a message. */
export function queueProducers(env: Env): ReplayTargets {
  return {
    "stripe-events": env.STRIPE_EVENTS,
    notifications: env.NOTIFICATIONS,
    imports: env.IMPORTS,
    intelligence: env.INTELLIGENCE,
  };
}
