import { describe, expect, it } from "vitest";
import { api } from "../../helpers/http.ts";
import { type OrderFixture, orderRow, paidOrder, refundRows } from "../../helpers/orders.ts";
import { seedShop } from "../../helpers/shops.ts";
import { stripeClient } from "../../helpers/stripe.ts";
import { registerUser, type TestUser } from "../../helpers/users.ts";

interface RouteCase {
  name: string;
  method: "GET" | "POST";
  path: (f: OrderFixture) => string;
  body?: unknown;
}

const buyerRoutes: RouteCase[] = [
  { name: "GET /v1/orders/{id}", method: "GET", path: (f) => `/v1/orders/${f.order.id}` },
  {
    name: "POST /v1/orders/{id}/cancel",
    method: "POST",
    path: (f) => `/v1/orders/${f.order.id}/cancel`,
    body: {},
  },
  {
    name: "POST /v1/orders/{id}/received",
    method: "POST",
    path: (f) => `/v1/orders/${f.order.id}/received`,
  },
];

const item = (f: OrderFixture) => f.order.items[0]?.id ?? "";

const sellerRoutes: RouteCase[] = [
  {
    name: "GET /v1/seller/orders?shopId=",
    method: "GET",
    path: (f) => `/v1/seller/orders?shopId=${f.order.shop.id}`,
  },
  {
    name: "GET /v1/seller/orders/{id}",
    method: "GET",
    path: (f) => `/v1/seller/orders/${f.order.id}`,
  },
  {
    name: "POST /v1/seller/orders/{id}/items/{itemId}/picked",
    method: "POST",
    path: (f) => `/v1/seller/orders/${f.order.id}/items/${item(f)}/picked`,
  },
  {
    name: "POST /v1/seller/orders/{id}/items/{itemId}/missing",
    method: "POST",
    path: (f) => `/v1/seller/orders/${f.order.id}/items/${item(f)}/missing`,
  },
  {
    name: "POST /v1/seller/orders/{id}/ship",
    method: "POST",
    path: (f) => `/v1/seller/orders/${f.order.id}/ship`,
    body: { carrier: "CTT", trackingNumber: "X1" },
  },
  {
    name: "POST /v1/seller/orders/{id}/refunds",
    method: "POST",
    path: (f) => `/v1/seller/orders/${f.order.id}/refunds`,
    body: { amountMinor: 100, reason: "not yours" },
  },
];

describe("order ownership", () => {
  it("answers 404 on every order route to anyone but the order's buyer or its shop's team, and changes nothing", async () => {
    const f = await paidOrder([{ priceMinor: 3_000, quantity: 1 }]);
    const otherBuyer = await registerUser("buyer");
    // A seller with a shop of their own: being a seller is not being this shop's seller.
    const otherShop = await seedShop();
    const cases: Array<{ route: RouteCase; who: string; user: TestUser }> = [
      ...buyerRoutes.flatMap((route) => [
        { route, who: "another buyer", user: otherBuyer },
        { route, who: "the shop's owner", user: f.owner },
        { route, who: "another shop's owner", user: otherShop.owner },
      ]),
      ...sellerRoutes.flatMap((route) => [
        { route, who: "another shop's owner", user: otherShop.owner },
        { route, who: "the order's buyer", user: f.buyer },
        { route, who: "another buyer", user: otherBuyer },
      ]),
    ];
    const failures: string[] = [];
    for (const { route, who, user } of cases) {
      const res = await api<{ code?: string }>(route.method, route.path(f), {
        token: user.accessToken,
        ...(route.body === undefined ? {} : { body: route.body }),
      });
      if (res.status !== 404 || res.body.code !== "NOT_FOUND") {
        failures.push(`${route.name} as ${who}: ${res.status} ${JSON.stringify(res.body)}`);
      }
    }
    expect(failures).toEqual([]);
    expect(await orderRow(f.order.id)).toMatchObject({ status: "paid", refundedMinor: 0 });
    expect(await refundRows(f.order.id)).toEqual([]);
    const onStripe = await stripeClient().refunds.list({
      payment_intent: f.checkout.paymentIntentId,
    });
    expect(onStripe.data).toEqual([]);
    // …while the rightful parties read it.
    expect(
      (await api("GET", `/v1/orders/${f.order.id}`, { token: f.buyer.accessToken })).status,
    ).toBe(200);
    expect(
      (await api("GET", `/v1/seller/orders/${f.order.id}`, { token: f.owner.accessToken })).status,
    ).toBe(200);
  });

  it("answers 404 for an order that does not exist", async () => {
    const u = await registerUser("buyer");
    const id = crypto.randomUUID();
    for (const path of [`/v1/orders/${id}`, `/v1/seller/orders/${id}`]) {
      expect((await api("GET", path, { token: u.accessToken })).status).toBe(404);
    }
  });
});
