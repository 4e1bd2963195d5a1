import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { api, type Problem } from "../../helpers/http.ts";
import { seedShop } from "../../helpers/shops.ts";
import { registerUser } from "../../helpers/users.ts";

interface Limited extends Problem {
  limit?: string;
  id?: string;
  conversation?: { id: string };
}

const hasRedis = Boolean(env.UPSTASH_REDIS_REST_URL);
const text = "The seller never answers and the parcel never came.";

const complain = (token: string, subject: { type: string; id: string }) =>
  api<Limited>("POST", "/v1/complaints", {
    token,
    body: { subject, category: "not_received", text },
  });

function expectLimited(res: { status: number; headers: Headers; body: Limited }, limit: string) {
  expect(res.status).toBe(429);
  expect(res.body.code).toBe("RATE_LIMITED");
  expect(res.body.limit).toBe(limit);
  expect(res.body.detail).toContain(limit);
  expect(Number(res.headers.get("retry-after"))).toBeGreaterThan(0);
}

describe.skipIf(!hasRedis)("limits on messages and complaints per user", () => {
  it("refuses the 21st message in a minute with 429 naming the limit; others still write", async () => {
    const buyer = await registerUser();
    const other = await registerUser();
    const shop = await seedShop({ status: "approved" });
    const opened = await api<Limited>("POST", "/v1/conversations", {
      token: buyer.accessToken,
      body: { shopId: shop.id, body: "Hello" },
    });
    expect(opened.status).toBe(201);
    const id = opened.body.conversation?.id;
    const statuses: number[] = [];
    let last: Awaited<ReturnType<typeof api<Limited>>> | undefined;
    // The opening message was the first of 20; a burst of 29 more must stop after 19.
    for (let i = 0; i < 29; i++) {
      last = await api<Limited>("POST", `/v1/conversations/${id}/messages`, {
        token: buyer.accessToken,
        body: { body: `message ${i}` },
      });
      statuses.push(last.status);
    }
    expect(statuses.filter((s) => s === 201)).toHaveLength(19);
    expect(statuses.slice(19).every((s) => s === 429)).toBe(true);
    if (!last) throw new Error("no answer");
    expectLimited(last, "message");
    // Opening another conversation is a message too.
    const again = await api<Limited>("POST", "/v1/conversations", {
      token: buyer.accessToken,
      body: { shopId: shop.id, body: "Still there?" },
    });
    expectLimited(again, "message");
    // The limit is the sender's: the shop's owner answers, another buyer writes.
    const reply = await api("POST", `/v1/conversations/${id}/messages`, {
      token: shop.owner.accessToken,
      body: { body: "Yes?" },
    });
    expect(reply.status).toBe(201);
    const fresh = await api("POST", "/v1/conversations", {
      token: other.accessToken,
      body: { shopId: shop.id, body: "Hi" },
    });
    expect(fresh.status).toBe(201);
  });

  it("takes 3 complaints a day about one shop from a user, then 429 complaint.subject", async () => {
    const buyer = await registerUser();
    const other = await registerUser();
    const shop = await seedShop({ status: "approved" });
    const subject = { type: "shop", id: shop.id };
    const statuses: number[] = [];
    let last: Awaited<ReturnType<typeof complain>> | undefined;
    for (let i = 0; i < 12; i++) {
      last = await complain(buyer.accessToken, subject);
      statuses.push(last.status);
    }
    expect(statuses).toEqual([201, 201, 201, ...Array(9).fill(429)]);
    if (!last) throw new Error("no answer");
    expectLimited(last, "complaint.subject");
    expect((await complain(other.accessToken, subject)).status).toBe(201);
  });

  it("takes 10 complaints a day from a user over all subjects, then 429 complaint.user", async () => {
    const buyer = await registerUser();
    const shops = await Promise.all([1, 2, 3, 4].map(() => seedShop({ status: "approved" })));
    const statuses: number[] = [];
    let last: Awaited<ReturnType<typeof complain>> | undefined;
    for (const shop of shops) {
      for (let i = 0; i < 3; i++) {
        last = await complain(buyer.accessToken, { type: "shop", id: shop.id });
        statuses.push(last.status);
      }
    }
    expect(statuses).toEqual([...Array(10).fill(201), 429, 429]);
    if (!last) throw new Error("no answer");
    expectLimited(last, "complaint.user");
  });
});
