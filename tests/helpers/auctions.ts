import { env, exports } from "cloudflare:workers";
import { and, eq, like } from "drizzle-orm";
import { expect } from "vitest";
import type { Frame } from "../../durable-objects/auction-room/types.ts";
import { type AuctionRoom, roomOf } from "../../durable-objects/auction-room.ts";
import { auctions, notifications, orders, users } from "../../src/db/schema/index.ts";
import { uuidv7 } from "../../src/lib/ids.ts";
import { signAccessToken } from "../../src/services/auth/tokens.ts";
import { createProduct, seedCategory, seedVisibleShop } from "./catalog.ts";
import { withDb } from "./db.ts";
import { eventually } from "./eventually.ts";
import { api, uniqueEmail } from "./http.ts";
import type { TestShop } from "./shops.ts";

export type RoomStub = DurableObjectStub<AuctionRoom>;

/** Nothing listens on port 1: every connection is refused, as when Postgres is down. */
export const UNREACHABLE_DB = "postgres://postgres:postgres@127.0.0.1:1/souk";

export function roomStub(auctionId: string): RoomStub {
  return roomOf(env.AUCTION_ROOM, auctionId);
}

export interface Bidder {
  id: string;
  token: string;
}

/**
 * Bidders made straight in Postgres with a signed access token each: registering through the API
 * costs a PBKDF2 hash per user, and these tests need dozens. Sign-up has its own tests.
 */
export async function seedBidders(n: number): Promise<Bidder[]> {
  const rows = Array.from({ length: n }, () => ({
    id: uuidv7(),
    email: uniqueEmail("bidder"),
    displayName: "Bidder",
    role: "buyer" as const,
  }));
  await withDb((db) => db.insert(users).values(rows));
  const secret = env.JWT_SECRET ?? "";
  return Promise.all(
    rows.map(async (r) => ({
      id: r.id,
      token: await signAccessToken({ sub: r.id, role: "buyer" }, secret),
    })),
  );
}

export interface AuctionSetup {
  shop: TestShop;
  productId: string;
  categoryId: string;
}

/** A visible shop with payouts and a published auction-type product. */
export async function auctionProduct(): Promise<AuctionSetup> {
  const shop = await seedVisibleShop();
  const category = await seedCategory();
  const product = await createProduct(shop.owner.accessToken, {
    shopId: shop.id,
    categoryId: category.id,
    title: `Auction lot ${crypto.randomUUID().slice(0, 6)}`,
    listingType: "auction",
    priceMinor: 1000,
  });
  return { shop, productId: product.id, categoryId: category.id };
}

export interface CreatedAuction {
  id: string;
  status: string;
  startsAt: string;
  endsAt: string;
  currentEndsAt: string;
  reservePriceMinor: number | null;
  buyNowPriceMinor: number | null;
  priceMinor: number;
}

export interface AuctionTerms {
  startPriceMinor?: number;
  reservePriceMinor?: number;
  buyNowPriceMinor?: number;
  startsAt?: string;
  endsAt?: string;
  /** Shorthand for `endsAt`: this many ms from now. */
  endsInMs?: number;
  softCloseSeconds?: number;
  maxExtensionSeconds?: number;
}

/** Opens an auction through the seller API (the owner's token). */
export async function openAuction(
  setup: AuctionSetup,
  terms: AuctionTerms = {},
): Promise<CreatedAuction & { stub: RoomStub }> {
  const { endsInMs, ...rest } = terms;
  const res = await api<CreatedAuction>("POST", "/v1/seller/auctions", {
    token: setup.shop.owner.accessToken,
    body: {
      productId: setup.productId,
      startPriceMinor: 1000,
      endsAt: new Date(Date.now() + (endsInMs ?? 60 * 60_000)).toISOString(),
      ...rest,
    },
  });
  expect(res.status, JSON.stringify(res.body)).toBe(201);
  return { ...res.body, stub: roomStub(res.body.id) };
}

/** A fresh product and an auction on it. */
export async function freshAuction(terms: AuctionTerms = {}) {
  const setup = await auctionProduct();
  const auction = await openAuction(setup, terms);
  return { setup, auction };
}

export async function auctionRow(auctionId: string) {
  return withDb(async (db) => {
    const [row] = await db.select().from(auctions).where(eq(auctions.id, auctionId));
    return row;
  });
}

export async function auctionOrders(auctionId: string) {
  return withDb((db) => db.select().from(orders).where(eq(orders.auctionId, auctionId)));
}

/** Notifications whose dedupe key belongs to this auction's result (`auction.<kind>:<id>:<user>`). */
export async function resultNotices(auctionId: string) {
  return withDb((db) =>
    db
      .select({ userId: notifications.userId, kind: notifications.kind })
      .from(notifications)
      .where(
        and(
          like(notifications.dedupeKey, `auction.%:${auctionId}:%`),
          like(notifications.kind, "auction.%"),
        ),
      ),
  );
}

/** A watcher on the Worker's live route: every message it receives, frames flattened. */
export interface Watcher {
  ws: WebSocket;
  frames: Frame[];
  /** Raw messages as received (a batched message is one JSON array). */
  messages: unknown[];
  others: Array<Record<string, unknown>>;
  close(): void;
}

/** Connects through `GET /v1/auctions/{id}/live` with `Upgrade: websocket`, like a browser. */
export async function watch(auctionId: string, token?: string): Promise<Watcher> {
  const headers: Record<string, string> = { upgrade: "websocket" };
  if (token) headers.authorization = `Bearer ${token}`;
  const res = await exports.default.fetch(`http://souk.test/v1/auctions/${auctionId}/live`, {
    headers,
  });
  expect(res.status).toBe(101);
  const ws = res.webSocket;
  if (!ws) throw new Error("no WebSocket in the 101 response");
  ws.accept();
  const w: Watcher = {
    ws,
    frames: [],
    messages: [],
    others: [],
    close: () => ws.close(1000, "done"),
  };
  ws.addEventListener("message", (event) => {
    const text = String(event.data);
    let data: unknown;
    try {
      data = JSON.parse(text);
    } catch {
      w.messages.push(text); // `pong`, the runtime's keep-alive answer
      return;
    }
    w.messages.push(data);
    for (const item of Array.isArray(data) ? data : [data]) {
      const rec = item as Record<string, unknown>;
      if (typeof rec.seq === "number") w.frames.push(item as Frame);
      else w.others.push(rec);
    }
  });
  return w;
}

/** Waits until the watcher holds a frame matching `match`. */
export function frameOf<T extends Frame["type"]>(
  w: Watcher,
  type: T,
  match: (f: Extract<Frame, { type: T }>) => boolean = () => true,
  ms = 10_000,
): Promise<Extract<Frame, { type: T }>> {
  return eventually(
    async () =>
      w.frames.find(
        (f): f is Extract<Frame, { type: T }> =>
          f.type === type && match(f as Extract<Frame, { type: T }>),
      ),
    ms,
    `a ${type} frame`,
  );
}
