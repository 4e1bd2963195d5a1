import { buildApp } from "./app.ts";
import type { Env } from "./env.ts";
import { runQueueBatch } from "./jobs/queue.ts";
import { runScheduled } from "./jobs/scheduled.ts";

export { AuctionRoom } from "../durable-objects/auction-room.ts";
export { DeliverySlots } from "../durable-objects/delivery-slots.ts";
export { ProductStock } from "../durable-objects/product-stock.ts";

const app = buildApp();

export default {
  fetch: app.fetch,
  async scheduled(controller, env, ctx) {
    ctx.waitUntil(runScheduled(controller.cron, env));
  },
  async queue(batch, env) {
    await runQueueBatch(batch, env);
  },
} satisfies ExportedHandler<Env>;
