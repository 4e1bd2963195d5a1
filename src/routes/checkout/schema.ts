import { z } from "@hono/zod-openapi";
import { idempotencyKeyHeader } from "../schemas.ts";
import { DeliverySlotSchema } from "../shops/delivery-slots.ts";

const minor = (description: string) => z.number().int().openapi({ description });

/** One rate's tax: shared by checkout and order reads (src/lib/tax.ts). */
export const TaxLineSchema = z
  .object({
    rateBps: z.number().int().openapi({ description: "Basis points: 1700 = 17%.", example: 1700 }),
    baseMinor: minor("The net amount taxed at this rate (before tax), minor units."),
    taxMinor: minor("The tax at this rate: Σ the per-line taxes, each rounded half up."),
  })
  .openapi("TaxLine", {
    description:
      "Tax per rate. Each line (product × quantity, or the delivery fee) is taxed on its own " +
      "and rounded half up to a minor unit; these sum the lines of one rate. Rate 0 is left out.",
  });

const taxFields = {
  pricesIncludeTax: z.boolean().openapi({
    description:
      "The shop's prices (and delivery fee) include tax: `taxMinor` is inside the total. False: " +
      "`taxMinor` is added to it.",
  }),
  taxMinor: minor("Σ the lines' and the delivery's tax, each rounded half up."),
  taxLines: z.array(TaxLineSchema),
};

const AddressSnapshotSchema = z.object({
  recipientName: z.string(),
  line1: z.string(),
  line2: z.string().nullable(),
  city: z.string(),
  region: z.string().nullable(),
  postalCode: z.string(),
  country: z.string(),
  phone: z.string().nullable(),
});

const FulfilmentPlanSchema = z.discriminatedUnion("method", [
  z.object({
    method: z.literal("delivery"),
    addressId: z.uuid(),
    address: AddressSnapshotSchema,
  }),
  z.object({ method: z.literal("pickup"), locationId: z.uuid(), locationName: z.string() }),
]);

const PreviewLineSchema = z.object({
  productId: z.uuid(),
  title: z.string(),
  sku: z.string(),
  unitPriceMinor: minor("The catalog price now."),
  quantity: z.number().int(),
  lineTotalMinor: z.number().int(),
  taxRateBps: z.number().int().openapi({
    description: "The product's rate: its category's in this shop, else the shop's default.",
  }),
  taxMinor: minor("The line's tax (lineTotal × rate), rounded half up."),
  available: z.number().int().nullable().openapi({
    description: "Units available now at the location this order takes from; null: unknown.",
  }),
});

const PreviewShopSchema = z.object({
  shopId: z.uuid(),
  shopName: z.string(),
  fulfilment: FulfilmentPlanSchema,
  deliverySlots: z
    .object({
      configured: z.boolean().openapi({ description: "False: the shop offers no windows." }),
      slots: z.array(DeliverySlotSchema),
    })
    .nullable()
    .openapi({
      description:
        "Delivery: the shop's next open two-hour windows (pass one's `start` as the " +
        "fulfilment entry's `slotStart`); null for pickup.",
    }),
  stockLocationId: z.uuid(),
  lines: z.array(PreviewLineSchema),
  subtotalMinor: z.number().int(),
  deliveryFeeMinor: minor(
    "0 for pickup or at/above the free-delivery minimum (shop override, else platform default).",
  ),
  platformFeeMinor: minor(
    "round half up (subtotal × PLATFORM_FEE_BPS / 10000), kept from the shop's share; not " +
      "added to what the buyer pays.",
  ),
  ...taxFields,
  totalMinor: minor(
    "subtotal + delivery fee (+ taxMinor when prices exclude tax): what the buyer pays for this " +
      "shop's order.",
  ),
});

const WarningSchema = z.object({
  code: z.enum(["insufficient_stock", "stock_unknown", "unavailable", "slot_unavailable"]),
  productId: z.uuid().optional().openapi({ description: "Absent for `slot_unavailable`." }),
  slotStart: z.iso.datetime().optional(),
  shopId: z.uuid().optional(),
  locationId: z.uuid().optional(),
  requested: z.number().int().optional(),
  available: z.number().int().optional(),
  reason: z.string().optional(),
  message: z.string(),
});

export const CheckoutPreviewSchema = z
  .object({
    currency: z.string(),
    shops: z.array(PreviewShopSchema),
    subtotalMinor: z.number().int(),
    deliveryFeeMinor: z.number().int(),
    platformFeeMinor: z.number().int(),
    taxMinor: minor("Σ the shops' tax (inside or on top of their totals)."),
    totalMinor: minor("What confirm would charge: Σ shop totals."),
    warnings: z.array(WarningSchema),
    ready: z.boolean(),
  })
  .openapi("CheckoutPreview");

export const ConfirmedCheckoutSchema = z
  .object({
    checkoutId: z.uuid(),
    orders: z.array(
      z.object({
        id: z.uuid(),
        shopId: z.uuid(),
        status: z.literal("pending_payment"),
        currency: z.string(),
        subtotalMinor: z.number().int(),
        deliveryFeeMinor: z.number().int(),
        platformFeeMinor: z.number().int(),
        ...taxFields,
        totalMinor: z.number().int(),
      }),
    ),
    paymentIntentId: z.string(),
    clientSecret: z.string().openapi({
      description: "Give it to Stripe.js (Payment Element) to take the payment.",
    }),
    amountMinor: minor("The PaymentIntent's amount: Σ order totals."),
    currency: z.string(),
    platformFeeMinor: z.number().int(),
    paymentDeadline: z.iso.datetime(),
  })
  .openapi("ConfirmedCheckout");

export const IdempotencyHeaders = idempotencyKeyHeader(
  "New per intended checkout and reused on every retry of it. Same key and body: the first " +
    "response again (`Idempotent-Replayed: true`); another body: 422 IDEMPOTENCY_KEY_REUSED; " +
    "while the first is still running: 409 with Retry-After. Kept 24 h.",
  true,
);
