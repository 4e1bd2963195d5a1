import { describe, expect, it } from "vitest";
import { api, type Problem } from "../../helpers/http.ts";
import { createAdmin } from "../../helpers/shops.ts";
import { seedCheckout } from "../../helpers/stripe.ts";
import { registerUser } from "../../helpers/users.ts";

interface Order {
  id: string;
  buyerId: string;
  status: string;
  shop: { id: string };
  items?: Array<{ id: string; productId: string; quantity: number; status: string }>;
  refunds?: unknown[];
}
interface OrderPage {
  items: Order[];
  nextCursor: string | null;
}

const ids = (page: OrderPage) => page.items.map((o) => o.id);

describe("GET /v1/admin/orders", () => {
  it("lists every order to admins only, by shop, buyer, status and date, a page at a time", async () => {
    const [admin, seller] = await Promise.all([createAdmin(), registerUser("seller")]);
    const before = new Date(Date.now() - 1000).toISOString();
    // One buyer, two shops: two orders, the second placed last.
    const checkout = await seedCheckout({
      orders: [
        { lines: [{ priceMinor: 1_000, quantity: 1 }] },
        { lines: [{ priceMinor: 2_000, quantity: 1 }] },
      ],
    });
    const [first, second] = checkout.orders;
    if (!first || !second) throw new Error("seed");
    const list = (qs: string) =>
      api<OrderPage & Problem>("GET", `/v1/admin/orders?${qs}`, { token: admin.accessToken });
    const buyer = `buyerId=${checkout.buyer.id}`;

    const page1 = await list(`${buyer}&limit=1`);
    expect(page1.status, JSON.stringify(page1.body)).toBe(200);
    expect(ids(page1.body)).toEqual([second.id]);
    const page2 = await list(`${buyer}&limit=1&cursor=${page1.body.nextCursor}`);
    expect(ids(page2.body)).toEqual([first.id]);
    expect(page2.body.nextCursor).toBeNull();

    expect(ids((await list(`shopId=${first.shop.id}`)).body)).toEqual([first.id]);
    expect(ids((await list(`${buyer}&status=pending_payment`)).body)).toEqual([
      second.id,
      first.id,
    ]);
    expect(ids((await list(`${buyer}&status=paid`)).body)).toEqual([]);
    const since = encodeURIComponent(before);
    const now = encodeURIComponent(new Date(Date.now() + 1000).toISOString());
    expect(ids((await list(`${buyer}&from=${since}&to=${now}`)).body)).toEqual([
      second.id,
      first.id,
    ]);
    expect(ids((await list(`${buyer}&from=${now}`)).body)).toEqual([]);
    expect(ids((await list(`${buyer}&to=${since}`)).body)).toEqual([]);

    const backwards = await list(`from=${now}&to=${since}`);
    expect(backwards.status).toBe(422);
    expect(backwards.body.errors?.map((e) => e.field)).toContain("to");
    expect((await list("cursor=garbage")).status).toBe(422);
    expect(
      (await api("GET", "/v1/admin/orders", { token: checkout.buyer.accessToken })).status,
    ).toBe(403);
    expect((await api("GET", "/v1/admin/orders", { token: seller.accessToken })).status).toBe(403);
  });

  it("shows an admin any order with its items and refunds; an unknown order is 404", async () => {
    const admin = await createAdmin();
    const checkout = await seedCheckout({
      orders: [
        {
          lines: [
            { priceMinor: 1_500, quantity: 2 },
            { priceMinor: 900, quantity: 1 },
          ],
        },
      ],
    });
    const [order] = checkout.orders;
    if (!order) throw new Error("seed");

    const res = await api<Order>("GET", `/v1/admin/orders/${order.id}`, {
      token: admin.accessToken,
    });
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    expect(res.body).toMatchObject({
      id: order.id,
      buyerId: checkout.buyer.id,
      status: "pending_payment",
      shop: { id: order.shop.id },
      refunds: [],
    });
    expect(res.body.items?.map((i) => [i.productId, i.quantity, i.status])).toEqual(
      order.items.map((i) => [i.productId, i.quantity, "pending"]),
    );

    const unknown = await api<Problem>("GET", `/v1/admin/orders/${crypto.randomUUID()}`, {
      token: admin.accessToken,
    });
    expect(unknown.status).toBe(404);
    expect(unknown.body.code).toBe("NOT_FOUND");
    const buyerAsks = await api("GET", `/v1/admin/orders/${order.id}`, {
      token: checkout.buyer.accessToken,
    });
    expect(buyerAsks.status).toBe(403);
  });
});
