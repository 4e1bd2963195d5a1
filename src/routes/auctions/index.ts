import { createRoute, z } from "@hono/zod-openapi";
import { createMiddleware } from "hono/factory";
import {
  roomOf,
  WATCHER_UNTIL_HEADER,
  WATCHER_USER_HEADER,
} from "../../../durable-objects/auction-room.ts";
import { createRouter } from "../../http/app.ts";
import type { AppEnv } from "../../http/context.ts";
import { authenticate, optionalAuth, requireAuth, signIn } from "../../http/middleware/auth.ts";
import { idempotency } from "../../http/middleware/idempotency.ts";
import { serviceContext } from "../../http/service-context.ts";
import { text } from "../../lib/text.ts";
import { bidInput, buyNow, placeBid } from "../../services/auctions/bidding.ts";
import {
  AUCTION_LIST_STATUSES,
  AUCTION_SORTS,
  auctionHistory,
  getAuction,
  listAuctions,
  visibleAuction,
} from "../../services/auctions/queries.ts";
import { acceptSecondChance, declineSecondChance } from "../../services/auctions/second-chance.ts";
import { bearer, IdParam, idempotencyKeyHeader, json, ok, problems } from "../schemas.ts";
import {
  AcceptedOfferSchema,
  AuctionPageSchema,
  BidHistorySchema,
  BidResultSchema,
  BuyNowResultSchema,
  named,
  OfferSchema,
  PublicAuctionSchema,
} from "./schema.ts";

/** Idempotency scoped to this auction: one key cannot replay another auction's answer. */
const idempotentPerAuction = (action: string) =>
  createMiddleware<AppEnv>(async (c, next) =>
    idempotency({ route: `POST /v1/auctions/${c.req.param("id")}/${action}` })(c, next),
  );

/**
 * The live socket's sign-in: a Bearer header, or (browsers cannot set headers on a WebSocket)
 * `?access_token=`. Checked once at connect; the room keeps the user id for the socket's bids.
 */
const liveAuth = createMiddleware<AppEnv>(async (c, next) => {
  const token = c.req.query("access_token");
  if (!token || c.req.header("authorization")) return optionalAuth(c, next);
  await signIn(c, token);
  await next();
});

/** The `exp` of an access token already verified (epoch ms), or null. */
function expiryOf(token: string | undefined): number | null {
  const payload = token?.split(".")[1];
  if (!payload) return null;
  try {
    const json = atob(payload.replace(/-/g, "+").replace(/_/g, "/"));
    const exp = (JSON.parse(json) as { exp?: unknown }).exp;
    return typeof exp === "number" ? exp * 1000 : null;
  } catch {
    return null;
  }
}

const ListQuery = z.object({
  status: z.enum(AUCTION_LIST_STATUSES).default("active").openapi({
    description: "`active` (default): running now. `upcoming`: scheduled to start later.",
  }),
  sort: z.enum(AUCTION_SORTS).default("ending_soon").openapi({
    description: "`ending_soon` (default): soonest end first. `newest`: latest created first.",
  }),
  category: text().min(1).max(100).optional().openapi({
    description: "A category id or slug; auctions of its whole subtree match.",
  }),
  shopId: z.uuid().optional(),
  limit: z.coerce.number().int().min(1).max(100).default(20).openapi({ example: 20 }),
  cursor: z.string().min(1).max(512).optional().openapi({ description: "From `nextCursor`." }),
});

const list = createRoute({
  method: "get",
  path: "/",
  tags: ["auctions"],
  summary: "Running (or upcoming) auctions, ending soonest first, by category",
  description:
    "Which auctions and their order come from Postgres (only visible shops); the live numbers " +
    "from the summary each auction publishes to Redis after every bid (`x-cache: hit`), or " +
    "from the Postgres mirror when Redis is absent or failing (`bypass`).",
  request: { query: ListQuery },
  responses: {
    200: {
      description: "A page of auctions",
      headers: z.object({ "x-cache": z.enum(["hit", "partial", "bypass"]) }),
      content: { "application/json": { schema: AuctionPageSchema } },
    },
    ...problems(422),
  },
});

const detail = createRoute({
  method: "get",
  path: "/{id}",
  tags: ["auctions"],
  summary: "One auction, live from its Durable Object",
  request: { params: IdParam },
  responses: { 200: ok("The auction", PublicAuctionSchema), ...problems(404, 422) },
});

const history = createRoute({
  method: "get",
  path: "/{id}/bids",
  tags: ["auctions"],
  summary: "Bid history, newest first: pseudonyms and prices, never maximums",
  request: {
    params: IdParam,
    query: z.object({
      limit: z.coerce.number().int().min(1).max(200).default(50),
      beforeSequence: z.coerce.number().int().min(1).max(2_147_483_647).optional(),
    }),
  },
  responses: { 200: ok("Bids", BidHistorySchema), ...problems(404, 422) },
});

const bid = createRoute({
  method: "post",
  path: "/{id}/bids",
  tags: ["auctions"],
  security: bearer,
  // No revocation-set read: the bid path makes no round trip, and the room is told of blocks.
  middleware: [authenticate({ standing: "token" })],
  summary: "Bid: your maximum; the system bids for you up to it",
  description:
    "Any signed-in user but the auction shop's own team (403) and blocked users (403). The " +
    "auction's object decides by the server's clock: before the start or at/after the (possibly " +
    "extended) end → 409 AUCTION_CLOSED; under the next minimum → 409 BID_TOO_LOW with " +
    "`minimumMinor`. A bid in the last `softCloseSeconds` moves the end. Rate limited per user " +
    "in each auction (429 with Retry-After). An optional Idempotency-Key makes a retried " +
    "request bid once. The auction's object decides all of this alone: a bid waits on neither " +
    "Postgres nor Redis (a user's first bid in an auction checks eligibility once).",
  request: {
    params: IdParam,
    headers: idempotencyKeyHeader("The same key answers the first bid again."),
    body: json(named(bidInput, "BidInput")),
  },
  responses: {
    201: ok("Accepted", BidResultSchema),
    ...problems(401, 403, 404, 409, 422, 429),
  },
});

const buy = createRoute({
  method: "post",
  path: "/{id}/buy-now",
  tags: ["auctions"],
  security: bearer,
  middleware: [requireAuth, idempotentPerAuction("buy-now")],
  summary: "Buy now: closes the auction at once; you win at the buy-now price",
  description:
    "Requires an Idempotency-Key. Available until the first bid, or with a reserve until the " +
    "reserve is met; otherwise 409. Serialized with bids in the auction's object: a buy-now " +
    "racing a bid has exactly one outcome. Creates your order (pending payment, with a " +
    "deadline): pay it with POST /v1/orders/{orderId}/pay.",
  request: {
    params: IdParam,
    headers: idempotencyKeyHeader("A unique value per intended purchase.", true),
  },
  responses: {
    201: ok("Bought", BuyNowResultSchema),
    ...problems(400, 401, 403, 404, 409, 422),
  },
});

const live = createRoute({
  method: "get",
  path: "/{id}/live",
  tags: ["auctions"],
  middleware: [liveAuth],
  summary: "Live stream (WebSocket): a snapshot, then every bid, extension and the result",
  description:
    "Send `Upgrade: websocket`. Frames are JSON; each carries `seq`, gapless per auction, so a " +
    "client can detect a gap (and send `snapshot` to resync). Types: `snapshot` (first), `bid` " +
    "(bidSequence, bidder alias, leader alias, price, end), `extended` (new end), `started`, " +
    "`closed` (result). With AUCTION_FRAME_BATCH_MS > 0 a message is a JSON array of frames. " +
    "Client commands: `ping` → `pong`, `whoami`, `snapshot`. A signed-in watcher's snapshot " +
    "names their own alias (`watcher.you`). Sign in with a Bearer header or `?access_token=` " +
    'to bid on the socket: send `{"type":"bid","maxMinor":5000}` (optional `key`, ' +
    "`ref`); the answer comes on this socket only: `bid.accepted` (status 201, the POST " +
    "route's body) or `bid.refused` (status and code as the POST route: 401, 403, 404, 409 " +
    "AUCTION_CLOSED / BID_TOO_LOW, 422 VALIDATION_FAILED with `errors[].field`, 429 with " +
    "`retryAfterSeconds`). Bids are refused (401) once the token the socket connected with " +
    "has expired: reconnect with a fresh one.",
  request: {
    params: IdParam,
    query: z.object({
      access_token: z.string().min(1).optional().openapi({
        description: "An access token, for clients that cannot send an Authorization header.",
      }),
    }),
  },
  responses: {
    101: { description: "Switching to the WebSocket protocol" },
    426: { description: "Not a WebSocket upgrade request" },
    ...problems(401, 404, 422),
  },
});

const accept = createRoute({
  method: "post",
  path: "/{id}/second-chance/accept",
  tags: ["auctions"],
  security: bearer,
  middleware: [requireAuth, idempotentPerAuction("second-chance/accept")],
  summary: "Accept your second-chance offer: an order at your own maximum",
  description:
    "Requires an Idempotency-Key. 404 without an open offer; 409 once it expired (48 h) or if " +
    "the item is held by another order; 403 for a blocked account.",
  request: {
    params: IdParam,
    headers: idempotencyKeyHeader("A unique value per intended purchase.", true),
  },
  responses: {
    201: ok("Accepted: pay the order", AcceptedOfferSchema),
    ...problems(400, 401, 403, 404, 409, 422),
  },
});

const decline = createRoute({
  method: "post",
  path: "/{id}/second-chance/decline",
  tags: ["auctions"],
  security: bearer,
  middleware: [requireAuth],
  summary: "Decline your second-chance offer",
  request: { params: IdParam },
  responses: { 200: ok("Declined", OfferSchema), ...problems(401, 404, 422) },
});

/** `/v1/auctions`: the public list and detail, bidding, buy-now, the live stream. */
export const auctionRoutes = createRouter()
  .openapi(list, async (c) => {
    const { page, cache } = await listAuctions(serviceContext(c), c.req.valid("query"));
    c.header("x-cache", cache);
    return c.json(page, 200);
  })
  .openapi(detail, async (c) =>
    c.json(await getAuction(serviceContext(c), c.req.valid("param").id), 200),
  )
  .openapi(history, async (c) =>
    c.json(
      await auctionHistory(serviceContext(c), c.req.valid("param").id, c.req.valid("query")),
      200,
    ),
  )
  .openapi(bid, async (c) => {
    const { id } = c.req.valid("param");
    const key = c.req.valid("header")["idempotency-key"];
    const user = c.get("user");
    const result = await placeBid(
      serviceContext(c),
      id,
      user.id,
      c.req.valid("json"),
      key ? `${user.id}:${key}` : undefined,
    );
    const { ok: _ok, ...body } = result;
    return c.json(body, 201);
  })
  .openapi(buy, async (c) =>
    c.json(await buyNow(serviceContext(c), c.req.valid("param").id, c.get("user").id), 201),
  )
  .openapi(live, async (c) => {
    const { id } = c.req.valid("param");
    if (c.req.header("upgrade")?.toLowerCase() !== "websocket") {
      return c.text("Expected Upgrade: websocket.", 426);
    }
    // The auction must be one a buyer may see (a hidden shop's auction is a 404).
    await visibleAuction(c.get("services").db, id);
    const headers = new Headers(c.req.raw.headers);
    headers.delete(WATCHER_USER_HEADER);
    headers.delete(WATCHER_UNTIL_HEADER);
    const user = c.get("user");
    if (user) {
      headers.set(WATCHER_USER_HEADER, user.id);
      const bearer = /^Bearer\s+(\S+)$/i.exec(c.req.header("authorization") ?? "")?.[1];
      const until = expiryOf(bearer ?? c.req.query("access_token"));
      if (until) headers.set(WATCHER_UNTIL_HEADER, String(until));
    }
    const res = await roomOf(c.env.AUCTION_ROOM, id).fetch(new Request(c.req.url, { headers }));
    // A fresh response: the object's has immutable headers, and the app adds x-request-id.
    return new Response(res.body, {
      status: res.status,
      headers: new Headers(res.headers),
      webSocket: res.webSocket,
    });
  })
  .openapi(accept, async (c) =>
    c.json(
      await acceptSecondChance(serviceContext(c), c.req.valid("param").id, c.get("user").id),
      201,
    ),
  )
  .openapi(decline, async (c) =>
    c.json(
      await declineSecondChance(serviceContext(c), c.req.valid("param").id, c.get("user").id),
      200,
    ),
  );
