import { z } from "zod";
import { MAX_SHOPS_PER_RUN, recomputeShop, staleShops } from "../services/intelligence/compute.ts";
import type { JobContext } from "./context.ts";

/** What the `intelligence` queue carries: one shop to recompute. */
export const intelligenceMessage = z.object({ shopId: z.uuid() });

/**
 * Cron (every 15 minutes): queues the stalest shops, one message each (fan-out): the cron only
 * selects, and each shop's forecasts, customers and recommendations are computed in a consumer
 * invocation of their own, within its CPU limits. A shop queued twice (still stale at the next
 * run) is computed twice, harmlessly: a recompute replaces the shop's rows, serialised per shop.
 */
export async function queueStaleShops(ctx: JobContext): Promise<{ queued: number }> {
  const ids = await staleShops(ctx.db, new Date(), MAX_SHOPS_PER_RUN);
  if (ids.length > 0) {
    await ctx.env.INTELLIGENCE.sendBatch(ids.map((shopId) => ({ body: { shopId } })));
  }
  return { queued: ids.length };
}

/** The `intelligence` consumer: recomputes one shop; a failure is retried, then dead-lettered. */
export async function handleIntelligence(ctx: JobContext, body: unknown): Promise<void> {
  const { shopId } = intelligenceMessage.parse(body);
  const r = await recomputeShop(ctx, shopId);
  ctx.logger.info("shop intelligence recomputed", { shopId, products: r.products });
}
