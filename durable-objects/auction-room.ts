import { DurableObject } from "cloudflare:workers";
import type { Env } from "../src/env.ts";

export interface AuctionSummary {
  status: "not_configured";
  watchers: number;
}

/** Single writer for one auction. Issue 6 grows it; this is the seed. */
export class AuctionRoom extends DurableObject<Env> {
  /** The public state of the room. */
  async summary(): Promise<AuctionSummary> {
    return { status: "not_configured", watchers: this.ctx.getWebSockets().length };
  }
}
