import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { buildApp } from "../../../src/app.ts";
import { freshAuction } from "../../helpers/auctions.ts";
import { api, type Problem } from "../../helpers/http.ts";
import { countRoundTrips } from "../../helpers/roundtrips.ts";
import { createAdmin, seedShop } from "../../helpers/shops.ts";
import { registerUser, type TestUser } from "../../helpers/users.ts";

const hasRedis = Boolean(env.UPSTASH_REDIS_REST_URL);

interface Opened extends Problem {
  conversation: { id: string };
}

const open = (token: string, shopId: string) =>
  api<Opened>("POST", "/v1/conversations", { token, body: { shopId, body: "Hello there" } });

async function login(u: TestUser) {
  return api<{ session: { accessToken: string; refreshToken: string } } & Problem>(
    "POST",
    "/v1/auth/login",
    { body: { email: u.email, password: u.password } },
  );
}

async function adminDoes(action: "block" | "unblock", userId: string) {
  const admin = await createAdmin();
  const res = await api("POST", `/v1/admin/users/${userId}/${action}`, {
    token: admin.accessToken,
    body: { reason: "abusive messages" },
  });
  expect(res.status).toBe(200);
}

const address = {
  recipientName: "Ana",
  line1: "Rua 1",
  city: "Lisboa",
  postalCode: "1000-001",
  country: "PT",
};

describe.skipIf(!hasRedis)("blocked accounts", () => {
  it("refuses a blocked account's writes at once, with the token it already holds, and asks Postgres nothing to do so", async () => {
    const buyer = await registerUser();
    const shop = await seedShop({ status: "approved" });
    const opened = await open(buyer.accessToken, shop.id);
    expect(opened.status).toBe(201);
    await adminDoes("block", buyer.id);

    const refused = await countRoundTrips(() => open(buyer.accessToken, shop.id));
    expect(refused.result.status).toBe(403);
    expect(refused.result.body.code).toBe("ACCOUNT_BLOCKED");
    expect(refused.roundTrips.total).toBe(0);
    const cart = await api<Problem>("POST", "/v1/cart/items", {
      token: buyer.accessToken,
      body: { productId: crypto.randomUUID(), quantity: 1 },
    });
    expect(cart.status).toBe(403);
    expect(cart.body.code).toBe("ACCOUNT_BLOCKED");
    const complaint = await api<Problem>("POST", "/v1/complaints", {
      token: buyer.accessToken,
      body: {
        subject: { type: "shop", id: shop.id },
        category: "other",
        text: "A complaint from a blocked account.",
      },
    });
    expect(complaint.body.code).toBe("ACCOUNT_BLOCKED");
  });

  it("lets a blocked account sign in, read, answer its conversations, follow and pay its orders", async () => {
    const buyer = await registerUser();
    const shop = await seedShop({ status: "approved" });
    const opened = await open(buyer.accessToken, shop.id);
    await adminDoes("block", buyer.id);

    const again = await login(buyer);
    expect(again.status).toBe(200);
    const token = again.body.session.accessToken;
    // A token signed during the block carries it: refused without the revocation set's entry.
    expect((await open(token, shop.id)).body.code).toBe("ACCOUNT_BLOCKED");

    const me = await api<{ blocked: boolean }>("GET", "/v1/me", { token });
    expect(me.status).toBe(200);
    expect(me.body.blocked).toBe(true);
    expect((await api("GET", "/v1/orders", { token })).status).toBe(200);
    expect((await api("GET", "/v1/conversations", { token })).status).toBe(200);
    const answer = await api("POST", `/v1/conversations/${opened.body.conversation.id}/messages`, {
      token,
      body: { body: "About my order" },
    });
    expect(answer.status).toBe(201);
    // Paying what it owes is allowed: no such order here, so 404, not 403.
    const pay = await api<Problem>("POST", `/v1/orders/${crypto.randomUUID()}/pay`, {
      token,
      body: {},
    });
    expect(pay.status).toBe(404);
    expect((await api("POST", "/v1/me/addresses", { token, body: address })).status).toBe(201);
    const refreshed = await api("POST", "/v1/auth/refresh", {
      body: { refreshToken: again.body.session.refreshToken },
    });
    expect(refreshed.status).toBe(200);
  });

  it("lifts the block at once, even for a token signed while it held", async () => {
    const buyer = await registerUser();
    const shop = await seedShop({ status: "approved" });
    await adminDoes("block", buyer.id);
    const during = (await login(buyer)).body.session.accessToken;
    expect((await open(during, shop.id)).status).toBe(403);
    await adminDoes("unblock", buyer.id);
    expect((await open(during, shop.id)).status).toBe(201);
  });
});

describe.skipIf(!hasRedis)("deleted accounts", () => {
  it("refuses a deleted account's access token at once (401) for reads and writes; no sign-in, no refresh", async () => {
    const buyer = await registerUser();
    const shop = await seedShop({ status: "approved" });
    const wrong = await api<Problem>("DELETE", "/v1/me", {
      token: buyer.accessToken,
      body: { currentPassword: "not my password" },
    });
    expect(wrong.status).toBe(422);
    expect(wrong.body.errors?.[0]).toMatchObject({ field: "currentPassword" });

    const deleted = await api("DELETE", "/v1/me", {
      token: buyer.accessToken,
      body: { currentPassword: buyer.password },
    });
    expect(deleted.status).toBe(204);
    const t = buyer.accessToken;
    for (const [method, path, body] of [
      ["GET", "/v1/me", undefined],
      ["POST", "/v1/conversations", { shopId: shop.id, body: "Hi" }],
      ["POST", "/v1/me/addresses", address],
    ] as const) {
      const res = await api<Problem>(method, path, { token: t, body });
      expect(res.status, `${method} ${path}`).toBe(401);
      expect(res.body.code).toBe("UNAUTHENTICATED");
    }
    expect((await login(buyer)).status).toBe(401);
    const refresh = await api("POST", "/v1/auth/refresh", {
      body: { refreshToken: buyer.refreshToken },
    });
    expect(refresh.status).toBe(401);
    // The address is free again.
    const back = await api("POST", "/v1/auth/register", {
      body: { email: buyer.email, password: buyer.password, displayName: "Back again" },
    });
    expect(back.status).toBe(201);
  });

  it("takes a deleted account's bids away at once, though the bid path reads no Redis", async () => {
    const { auction } = await freshAuction();
    const bidder = await registerUser();
    const bid = (maxMinor: number) =>
      api<Problem>("POST", `/v1/auctions/${auction.id}/bids`, {
        token: bidder.accessToken,
        body: { maxMinor },
      });
    expect((await bid(2000)).status).toBe(201);
    // The room mirrors the bid, so the deletion finds the room that holds the bidder eligible.
    expect(await auction.stub.flushOutbox()).toMatchObject({ error: null, pending: 0 });
    const deleted = await api("DELETE", "/v1/me", {
      token: bidder.accessToken,
      body: { currentPassword: bidder.password },
    });
    expect(deleted.status).toBe(204);
    const again = await bid(3000);
    expect(again.status).toBe(403);
  });

  it("keeps a shop's owner from deleting the account while the shop lives (409)", async () => {
    const shop = await seedShop({ status: "approved" });
    const res = await api<Problem>("DELETE", "/v1/me", {
      token: shop.owner.accessToken,
      body: { currentPassword: shop.owner.password },
    });
    expect(res.status).toBe(409);
    expect((await api("GET", "/v1/me", { token: shop.owner.accessToken })).status).toBe(200);
  });
});

describe("when the revocation set cannot be read", () => {
  it("fails closed for writes (503) and lets reads through", async () => {
    const buyer = await registerUser();
    const app = buildApp();
    // Nothing listens on port 9: every Redis call fails.
    const dead = {
      ...env,
      UPSTASH_REDIS_REST_URL: "http://127.0.0.1:9",
      UPSTASH_REDIS_REST_TOKEN: "t",
    };
    const headers = {
      authorization: `Bearer ${buyer.accessToken}`,
      "content-type": "application/json",
    };
    const read = await app.request("/v1/me", { headers }, dead);
    expect(read.status).toBe(200);
    const write = await app.request(
      "/v1/me/addresses",
      { method: "POST", headers, body: JSON.stringify(address) },
      dead,
    );
    expect(write.status).toBe(503);
    expect(((await write.json()) as Problem).code).toBe("SERVICE_UNAVAILABLE");
  });
});
