import { eq, inArray } from "drizzle-orm";
import { checkouts, orderItems, orders } from "../../src/db/schema/index.ts";
import { withDb } from "./db.ts";
import { type ApiResponse, api, type Problem } from "./http.ts";
import type { TestUser } from "./users.ts";

export type Fulfilment =
  | { shopId: string; method: "delivery"; addressId: string }
  | { shopId: string; method: "pickup"; locationId: string };

export interface CheckoutBody {
  /** Buy now: these products instead of the cart. */
  items?: Array<{ productId: string; quantity: number }>;
  fulfilment: Fulfilment[];
  expectedTotalMinor?: number;
}

export interface PreviewShop {
  shopId: string;
  fulfilment: { method: string };
  stockLocationId: string;
  lines: Array<{
    productId: string;
    unitPriceMinor: number;
    quantity: number;
    lineTotalMinor: number;
    available: number | null;
  }>;
  subtotalMinor: number;
  deliveryFeeMinor: number;
  platformFeeMinor: number;
  totalMinor: number;
}

export interface Preview {
  currency: string;
  shops: PreviewShop[];
  subtotalMinor: number;
  deliveryFeeMinor: number;
  platformFeeMinor: number;
  totalMinor: number;
  warnings: Array<{
    code: string;
    productId: string;
    requested?: number;
    available?: number;
    reason?: string;
  }>;
  ready: boolean;
}

export interface Confirmed {
  checkoutId: string;
  orders: Array<{
    id: string;
    shopId: string;
    status: string;
    currency: string;
    subtotalMinor: number;
    deliveryFeeMinor: number;
    platformFeeMinor: number;
    totalMinor: number;
  }>;
  paymentIntentId: string;
  clientSecret: string;
  amountMinor: number;
  currency: string;
  platformFeeMinor: number;
  paymentDeadline: string;
}

export type ProblemBody = Problem & Record<string, unknown>;

export function preview(
  user: TestUser,
  body: CheckoutBody | Record<string, unknown>,
): Promise<ApiResponse<Preview & ProblemBody>> {
  return api("POST", "/v1/checkout/preview", { token: user.accessToken, body });
}

export function confirm(
  user: TestUser,
  body: CheckoutBody | Record<string, unknown>,
  key: string | null = crypto.randomUUID(),
): Promise<ApiResponse<Confirmed & ProblemBody>> {
  return api("POST", "/v1/checkout/confirm", {
    token: user.accessToken,
    body,
    ...(key === null ? {} : { headers: { "idempotency-key": key } }),
  });
}

/** Every checkout, order and order item of a buyer, straight from Postgres. */
export async function purchasesOf(buyerId: string) {
  return withDb(async (db) => {
    const cs = await db.select().from(checkouts).where(eq(checkouts.buyerId, buyerId));
    const os = await db.select().from(orders).where(eq(orders.buyerId, buyerId));
    const items =
      os.length === 0
        ? []
        : await db
            .select()
            .from(orderItems)
            .where(
              inArray(
                orderItems.orderId,
                os.map((o) => o.id),
              ),
            );
    return { checkouts: cs, orders: os, items };
  });
}
