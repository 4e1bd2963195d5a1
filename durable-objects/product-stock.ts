import { DurableObject } from "cloudflare:workers";
import type { Env } from "../src/env.ts";

export interface StockSnapshot {
  productId: string | null;
  locations: Array<{ locationId: string; onHand: number; reserved: number; available: number }>;
}

/** Single writer for one product's stock. Issue 4 grows it; this is the seed. */
export class ProductStock extends DurableObject<Env> {
  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    ctx.blockConcurrencyWhile(async () => {
      this.ctx.storage.sql.exec(`CREATE TABLE IF NOT EXISTS stock_levels (
        location_id TEXT PRIMARY KEY,
        on_hand INTEGER NOT NULL DEFAULT 0 CHECK (on_hand >= 0),
        reserved INTEGER NOT NULL DEFAULT 0 CHECK (reserved >= 0)
      )`);
    });
  }

  /** Reads every location's on-hand, reserved and available quantities. */
  async snapshot(): Promise<StockSnapshot> {
    const rows = this.ctx.storage.sql
      .exec<{ location_id: string; on_hand: number; reserved: number }>(
        "SELECT location_id, on_hand, reserved FROM stock_levels ORDER BY location_id",
      )
      .toArray();
    return {
      productId: null,
      locations: rows.map((r) => ({
        locationId: r.location_id,
        onHand: r.on_hand,
        reserved: r.reserved,
        available: r.on_hand - r.reserved,
      })),
    };
  }
}
