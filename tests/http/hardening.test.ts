import { exports } from "cloudflare:workers";
import { DrizzleQueryError } from "drizzle-orm";
import { Hono } from "hono";
import { describe, expect, it, vi } from "vitest";
import type { AppEnv } from "../../src/http/context.ts";
import { onError } from "../../src/http/problem.ts";
import { seedCategory, seedVisibleShop } from "../helpers/catalog.ts";
import { seedOrder } from "../helpers/feedback.ts";
import { api, type Problem, randomIp, uniqueEmail } from "../helpers/http.ts";
import { seedShop } from "../helpers/shops.ts";

const MiB = 1024 * 1024;

/** A body that streams in chunks with no Content-Length, as a chunked upload arrives. */
function chunked(bytes: number): ReadableStream<Uint8Array> {
  const chunk = new Uint8Array(64 * 1024).fill(0x20);
  let sent = 0;
  return new ReadableStream({
    pull(controller) {
      if (sent >= bytes) return controller.close();
      const n = Math.min(chunk.length, bytes - sent);
      controller.enqueue(chunk.subarray(0, n));
      sent += n;
    },
  });
}

describe("request body size", () => {
  it("refuses a JSON body over 1 MiB with 413 problem+json", async () => {
    const res = await api<Problem>("POST", "/v1/auth/register", {
      body: { email: "big@example.test", password: "x".repeat(2 * MiB), displayName: "Big" },
    });
    expect(res.status).toBe(413);
    expect(res.headers.get("content-type")).toBe("application/problem+json");
    expect(res.body).toMatchObject({ code: "PAYLOAD_TOO_LARGE", status: 413, maxBytes: MiB });
  });

  it("counts a chunked body without Content-Length as it streams", async () => {
    const res = await exports.default.fetch("http://souk.test/v1/auth/login", {
      method: "POST",
      headers: { "content-type": "application/json", "cf-connecting-ip": randomIp() },
      body: chunked(MiB + 1),
      duplex: "half",
    } as RequestInit);
    expect(res.status).toBe(413);
    expect(((await res.json()) as Problem).code).toBe("PAYLOAD_TOO_LARGE");
  });

  it("still takes a body just under the limit", async () => {
    const res = await api<Problem>("POST", "/v1/auth/login", {
      body: { email: "nobody@example.test", password: "x".repeat(MiB - 100) },
    });
    expect(res.status).not.toBe(413);
  });

  it("lets the CSV stock import take more than 1 MiB, up to its own limit", async () => {
    const shop = await seedShop();
    const upload = (csv: string) =>
      api<Problem>("POST", `/v1/seller/inventory/import?shopId=${shop.id}`, {
        token: shop.owner.accessToken,
        body: csv,
        headers: { "content-type": "text/csv", "idempotency-key": crypto.randomUUID() },
      });
    const overDefault = await upload(`sku,location,quantity\n${"x".repeat(2 * MiB)}\n`);
    expect(overDefault.status).toBe(422);
    const overOwn = await upload(`sku,location,quantity\n${"x".repeat(5 * MiB)}\n`);
    expect(overOwn.status).toBe(413);
    expect(overOwn.body.code).toBe("PAYLOAD_TOO_LARGE");
  });
});

describe("public shop feedback", () => {
  it("names the reviewer by a masked display name and links to no account or order", async () => {
    const shop = await seedShop({ status: "approved" });
    const email = uniqueEmail("amina");
    const reg = await api<{ user: { id: string }; session: { accessToken: string } }>(
      "POST",
      "/v1/auth/register",
      {
        body: {
          email,
          password: "correct horse battery staple",
          displayName: "Amina Kowalski",
        },
      },
    );
    expect(reg.status).toBe(201);
    const orderId = await seedOrder(reg.body.user.id, shop.id);
    const left = await api("POST", `/v1/orders/${orderId}/feedback`, {
      token: reg.body.session.accessToken,
      body: { rating: 5, comment: "Lovely mug" },
    });
    expect(left.status).toBe(201);

    const page = await api<{ items: Array<Record<string, unknown>> }>(
      "GET",
      `/v1/shops/${shop.id}/feedback`,
    );
    expect(page.status).toBe(200);
    expect(page.body.items).toHaveLength(1);
    expect(page.body.items[0]).toMatchObject({ reviewer: "Am… K.", rating: 5 });
    expect(page.body.items[0]).not.toHaveProperty("buyerId");
    expect(page.body.items[0]).not.toHaveProperty("orderId");
    const text = JSON.stringify(page.body);
    for (const secret of [reg.body.user.id, orderId, email, "Kowalski"]) {
      expect(text).not.toContain(secret);
    }
  });
});

describe("image URLs", () => {
  it("refuses https URLs naming loopback, private, link-local or metadata hosts", async () => {
    const [shop, category] = await Promise.all([seedVisibleShop(), seedCategory()]);
    const create = (imageUrls: string[]) =>
      api<Problem>("POST", "/v1/seller/products", {
        token: shop.owner.accessToken,
        body: {
          shopId: shop.id,
          categoryId: category.id,
          title: "Mug",
          priceMinor: 1000,
          sku: `SKU-${crypto.randomUUID().slice(0, 8)}`,
          listingType: "fixed",
          imageUrls,
        },
      });
    const refused = [
      "https://localhost/a.png",
      "https://shop.localhost/a.png",
      "https://127.0.0.1/a.png",
      "https://0x7f000001/a.png",
      "https://2130706433/a.png",
      "https://10.0.0.8/a.png",
      "https://172.20.1.1/a.png",
      "https://192.168.1.10/a.png",
      "https://169.254.169.254/latest/meta-data/",
      "https://metadata.google.internal/computeMetadata/v1/",
      "https://[::1]/a.png",
      "https://[::ffff:127.0.0.1]/a.png",
      "https://[fd12:3456::1]/a.png",
      "https://[fe80::1]/a.png",
      "https://intranet/a.png",
    ];
    for (const url of refused) {
      const res = await create(["https://images.example.com/ok.png", url]);
      expect(res.status, url).toBe(422);
      expect(
        res.body.errors?.map((e) => e.field),
        url,
      ).toEqual(["imageUrls.1"]);
    }
    const ok = await create(["https://images.example.com/ok.png", "https://93.184.215.14/a.png"]);
    expect(ok.status, JSON.stringify(ok.body)).toBe(201);
  });
});

describe("security headers", () => {
  it("puts nosniff and no framing on every answer, errors included", async () => {
    for (const path of ["/health", "/v1/products", "/v1/no-such-route"]) {
      const res = await api("GET", path);
      expect(res.headers.get("x-content-type-options"), path).toBe("nosniff");
      expect(res.headers.get("x-frame-options"), path).toBe("DENY");
      expect(res.headers.get("content-security-policy"), path).toContain("frame-ancestors 'none'");
    }
  });

  it("keeps auth answers and /v1/me out of caches, and not the catalog", async () => {
    const email = uniqueEmail("nostore");
    const reg = await api<{ session: { accessToken: string } }>("POST", "/v1/auth/register", {
      body: { email, password: "correct horse battery staple", displayName: "No Store" },
    });
    expect(reg.headers.get("cache-control")).toBe("no-store");
    const login = await api("POST", "/v1/auth/login", { body: { email, password: "wrong one!" } });
    expect(login.headers.get("cache-control")).toBe("no-store");
    const me = await api("GET", "/v1/me", { token: reg.body.session.accessToken });
    expect(me.status).toBe(200);
    expect(me.headers.get("cache-control")).toBe("no-store");
    const addresses = await api("GET", "/v1/me/addresses", { token: reg.body.session.accessToken });
    expect(addresses.headers.get("cache-control")).toBe("no-store");
    const catalog = await api("GET", "/v1/products");
    expect(catalog.headers.get("cache-control")).not.toBe("no-store");
  });

  it("serves /docs unframeable and still working", async () => {
    const res = await api<string>("GET", "/docs");
    expect(res.status).toBe(200);
    expect(res.headers.get("x-frame-options")).toBe("DENY");
    const csp = res.headers.get("content-security-policy") ?? "";
    expect(csp).toContain("frame-ancestors 'none'");
    // The page's inline config and its script must still run.
    expect(csp).not.toMatch(/default-src|script-src/);
    expect(res.body).toContain("/docs/scalar.js");
  });
});

describe("text Postgres cannot store", () => {
  const NUL = "\u0000";
  const LONE = "\ud800";

  async function signUp(displayName: string) {
    return api<Problem & { session: { accessToken: string } }>("POST", "/v1/auth/register", {
      body: { email: uniqueEmail("text"), password: "correct horse battery staple", displayName },
    });
  }

  const fieldsOf = (p: Problem) => p.errors?.map((e) => `${e.in}:${e.field}`);

  it("is a 422 naming the query parameter, not a 500", async () => {
    for (const [path, field] of [
      ["/v1/products?q=%00", "q"],
      ["/v1/products?q=mug%00", "q"],
      ["/v1/products?category=%00", "category"],
      ["/v1/products?shop=a%00b", "shop"],
      ["/v1/shops?q=%00", "q"],
      ["/v1/auctions?category=%00", "category"],
    ] as const) {
      const res = await api<Problem>("GET", path);
      expect(res.status, path).toBe(422);
      expect(fieldsOf(res.body), path).toEqual([`query:${field}`]);
    }
  });

  it("is a 422 naming the body field: display names, messages, addresses", async () => {
    const withNul = await signUp(`Amy${NUL}`);
    expect(withNul.status).toBe(422);
    expect(fieldsOf(withNul.body)).toEqual(["body:displayName"]);
    const withLone = await signUp(`Amy${LONE}`);
    expect(withLone.status).toBe(422);
    expect(fieldsOf(withLone.body)).toEqual(["body:displayName"]);

    const ok = await signUp("Amy 🎉 Ünal");
    expect(ok.status).toBe(201);
    const token = ok.body.session.accessToken;
    const rename = await api<Problem>("PATCH", "/v1/me", {
      token,
      body: { displayName: `A${NUL}` },
    });
    expect(rename.status).toBe(422);
    expect(fieldsOf(rename.body)).toEqual(["body:displayName"]);

    const shop = await seedVisibleShop();
    const message = await api<Problem>("POST", "/v1/conversations", {
      token,
      body: { shopId: shop.id, body: `Hello${NUL}` },
    });
    expect(message.status).toBe(422);
    expect(fieldsOf(message.body)).toEqual(["body:body"]);

    const address = await api<Problem>("POST", "/v1/me/addresses", {
      token,
      body: {
        recipientName: "Amy",
        line1: `Rua ${LONE}1`,
        city: "Lisboa",
        postalCode: "1100-001",
        country: "PT",
      },
    });
    expect(address.status).toBe(422);
    expect(fieldsOf(address.body)).toEqual(["body:line1"]);
  });

  it("is a 422 in a CSV stock import", async () => {
    const shop = await seedShop();
    const res = await api<Problem>("POST", `/v1/seller/inventory/import?shopId=${shop.id}`, {
      token: shop.owner.accessToken,
      body: `sku,location,quantity\nMUG${NUL},WH,1\n`,
      headers: { "content-type": "text/csv" },
    });
    expect(res.status).toBe(422);
    expect(fieldsOf(res.body)).toEqual(["body:body"]);
  });

  it("logs a failed query without its parameters or the value Postgres quoted", async () => {
    const secret = "Amina's private note";
    const app = new Hono<AppEnv>()
      .get("/x", () => {
        throw new DrizzleQueryError(
          'insert into "messages" ("body", "sender_id") values ($1, $2)',
          [`${secret}\nsecond line`, "0192f0c1-7a4e-7c39-9a51-0c3c1f1e2a7b"],
          new Error(`invalid input syntax for type uuid: "${secret}"`),
        );
      })
      .onError(onError);
    const lines: string[] = [];
    const spy = vi.spyOn(console, "error").mockImplementation((line: unknown) => {
      lines.push(String(line));
    });
    try {
      expect((await app.request("/x")).status).toBe(500);
    } finally {
      spy.mockRestore();
    }
    expect(lines).toHaveLength(1);
    const line = lines[0] ?? "";
    expect(line).toContain('insert into \\"messages\\"');
    expect(line).not.toContain(secret);
    expect(line).not.toContain("second line");
    expect(line).not.toContain("0192f0c1-7a4e-7c39-9a51-0c3c1f1e2a7b");
  });
});
