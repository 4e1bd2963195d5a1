import { describe, expect, it } from "vitest";
import { api } from "../../helpers/http.ts";
import { paidOrder, pendingOrder } from "../../helpers/orders.ts";

interface OrderBody {
  id: string;
  status: string;
  paymentDueAt: string | null;
}

describe("the payment deadline on an order", () => {
  it("is shown as paymentDueAt while the order awaits payment, in the order and in the list", async () => {
    const f = await pendingOrder();
    const detail = await api<OrderBody>("GET", `/v1/orders/${f.order.id}`, {
      token: f.buyer.accessToken,
    });
    expect(detail.status).toBe(200);
    expect(detail.body.status).toBe("pending_payment");
    const due = detail.body.paymentDueAt;
    expect(due).not.toBeNull();
    // seedCheckout's default window: 30 minutes from now.
    const ahead = Date.parse(due ?? "") - Date.now();
    expect(ahead).toBeGreaterThan(25 * 60_000);
    expect(ahead).toBeLessThanOrEqual(30 * 60_000);

    const list = await api<{ items: OrderBody[] }>("GET", "/v1/orders", {
      token: f.buyer.accessToken,
    });
    expect(list.body.items.find((o) => o.id === f.order.id)?.paymentDueAt).toBe(due);
  });

  it("is null once the order is paid", async () => {
    const f = await paidOrder();
    const detail = await api<OrderBody>("GET", `/v1/orders/${f.order.id}`, {
      token: f.buyer.accessToken,
    });
    expect(detail.body).toMatchObject({ status: "paid", paymentDueAt: null });
  });

  it("is documented in the OpenAPI schema of an order", async () => {
    const doc = await api<{
      components: { schemas: Record<string, { properties?: Record<string, unknown> }> };
    }>("GET", "/openapi.json");
    expect(doc.body.components.schemas.Order?.properties?.paymentDueAt).toMatchObject({
      format: "date-time",
    });
  });
});
