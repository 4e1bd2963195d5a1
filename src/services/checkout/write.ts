import type { NeonQueryFunction, NeonQueryPromise } from "@neondatabase/serverless";
import { type Actor, type AuditEntry, auditInsertSql } from "../../db/audit.ts";
import { DEFAULT_MAX_PER_BUYER, MAX_OPEN_CHECKOUTS } from "./limits.ts";

/**
 * The purchase's one write (services/checkout/confirm.ts), as the statements of ONE
 * non-interactive transaction over Neon's HTTP transport (`sql.transaction([...])`).
 *
 * Written as plain SQL with `$n` parameters, not through drizzle's query builder: this is the
 * hottest write in Souk, and building its ten statements through the ORM cost ~2.5 ms of CPU
 * per purchase (bench:profile), more than everything else the write does. Multi-row inserts
 * take one array per column (`unnest`), so the SQL text is the same for one line or fifty.
 * The column lists match src/db/schema/orders.ts and audit-log.ts; tests/routes/checkout/*
 * exercise every statement against the real schema.
 *
 * Order matters: the idempotency record comes first, so a key used before fails there (23505)
 * before anything else is tried; then the guards (`souk_assert`, migrations/0012) that re-check
 * what the plan took from snapshots; then the rows.
 */

type Sql = NeonQueryFunction<false, false>;
export type WriteStatement = NeonQueryPromise<false, false>;

/** The fields of one line the write records and re-checks. */
export interface WriteLine {
  productId: string;
  shopId: string;
  title: string;
  sku: string;
  priceMinor: number;
  currency: string;
  quantity: number;
  deliveryFeeMinor: number | null;
  freeDeliveryMinMinor: number | null;
  /** The tax terms the line was priced under (re-checked against the shop and its rates). */
  tax: { pricesIncludeTax: boolean; rateBps: number; shopRateBps: number };
}

export type WriteChoice =
  | { method: "delivery"; addressId: string }
  | { method: "pickup"; locationId: string };

export interface WriteShop {
  shopId: string;
  choice: WriteChoice;
  stockLocationId: string;
  stockLocationKind: "warehouse" | "branch";
  lines: WriteLine[];
  subtotalMinor: number;
  deliveryFeeMinor: number;
  platformFeeMinor: number;
  pricesIncludeTax: boolean;
  taxMinor: number;
  deliveryTaxRateBps: number;
  deliveryTaxMinor: number;
  totalMinor: number;
}

export interface PurchaseWrite {
  actor: Actor;
  buyerId: string;
  route: string;
  key: string;
  requestHash: string;
  /** 1 inserts the idempotency record; n > 1 takes over the one attempt n-1 left voided. */
  attempt: number;
  /** The answer the record keeps (what a replay returns). */
  stored: { checkoutId: string };
  expiresAt: Date;
  source: "cart" | "items";
  currency: string;
  totalMinor: number;
  platformFeeMinor: number;
  paymentDeadline: Date;
  /** The cart's version the plan was made from (cart purchases). */
  cartVersion: string | null;
  orders: Array<{
    id: string;
    shop: WriteShop;
    items: Array<{ id: string; line: WriteLine; taxMinor: number }>;
  }>;
  /** The reservation id of each product's hold. */
  reservationOf: (productId: string) => string | null;
  /** The delivery window booked for a shop's order (DeliverySlots), if any. */
  slotOf?: (shopId: string) => { start: string; end: string } | null;
}

/** The statements, and which of them answers what the purchase replaced (`ReplacedRow`s). */
export interface PurchaseStatements {
  statements: WriteStatement[];
  replaced: number;
}

/** One row of what a purchase replaced: a hold to release, or a PaymentIntent to cancel. */
export interface ReplacedRow {
  kind: "hold" | "intent";
  product_id: string | null;
  ref: string;
  order_id: string;
}

export function purchaseStatements(sql: Sql, w: PurchaseWrite): PurchaseStatements {
  const q = (text: string, params: unknown[]) => sql.query(text, params);
  const { stored, buyerId } = w;
  const body = JSON.stringify(stored);
  const out: WriteStatement[] = [];

  out.push(
    w.attempt === 1
      ? q(
          `insert into idempotency_keys (user_id, route, key, request_hash, state, locked_until,
             response_status, response_body, attempt, created_at, expires_at)
           values ($1, $2, $3, $4, 'done', now(), 201, $5::jsonb, 1, now(), $6)`,
          [buyerId, w.route, w.key, w.requestHash, body, w.expiresAt.toISOString()],
        )
      : q(
          `with claimed as (
             update idempotency_keys set request_hash = $4, state = 'done', locked_until = now(),
               response_status = 201, response_body = $5::jsonb, attempt = $7,
               created_at = now(), expires_at = $6
             where user_id = $1 and route = $2 and key = $3
               and state = 'voided' and attempt = $7 - 1
             returning 1)
           select souk_assert(count(*) = 1, 'IDEMPOTENCY_TAKEN') from claimed`,
          [buyerId, w.route, w.key, w.requestHash, body, w.expiresAt.toISOString(), w.attempt],
        ),
  );

  // The buyer may buy: checked here, at the write, so a block is obeyed from the moment it
  // commits (an access token outlives it by up to 15 minutes). The row lock serializes one
  // buyer's purchases, so the limits below count each other's checkouts.
  out.push(
    q(
      `select souk_assert(count(*) = 1, 'BUYER_GONE'),
         souk_assert(bool_and(u.blocked_at is null) is not false, 'BUYER_BLOCKED')
       from (select blocked_at from users where id = $1 and deleted_at is null for update) u`,
      [buyerId],
    ),
  );

  // Every line is still on sale at the snapshot's price, in its currency, from a shop that
  // takes orders under the same delivery rules and tax terms (mode, default rate, the rate of
  // the product's category).
  const lines = w.orders.flatMap((o) => o.items.map((i) => i.line));
  out.push(
    q(
      `select souk_assert(count(*) = $7, 'LISTING_CHANGED')
       from unnest($1::uuid[], $2::int[], $3::text[], $4::uuid[], $5::int[], $6::int[],
         $8::int[], $10::bool[], $11::int[], $12::int[])
         as v(id, price, currency, shop_id, fee, free_min, quantity, incl, rate, shop_rate)
       join products p on p.id = v.id and p.price_minor = v.price and p.currency = v.currency
         and p.shop_id = v.shop_id and p.status = 'published' and p.deleted_at is null
         and p.listing_type = 'fixed' and v.quantity <= coalesce(p.max_per_buyer, $9)
       join shops s on s.id = p.shop_id and s.status = 'approved'
         and s.email_verified_at is not null and s.deleted_at is null and s.payouts_enabled
         and s.delivery_fee_minor is not distinct from v.fee
         and s.free_delivery_min_minor is not distinct from v.free_min
         and s.prices_include_tax = v.incl and s.tax_rate_bps = v.shop_rate
         and coalesce((select r.rate_bps from shop_tax_rates r
           where r.shop_id = s.id and r.category_id = p.category_id), s.tax_rate_bps) = v.rate`,
      [
        lines.map((l) => l.productId),
        lines.map((l) => l.priceMinor),
        lines.map((l) => l.currency),
        lines.map((l) => l.shopId),
        lines.map((l) => l.deliveryFeeMinor),
        lines.map((l) => l.freeDeliveryMinMinor),
        lines.length,
        lines.map((l) => l.quantity),
        DEFAULT_MAX_PER_BUYER,
        lines.map((l) => l.tax.pricesIncludeTax),
        lines.map((l) => l.tax.rateBps),
        lines.map((l) => l.tax.shopRateBps),
      ],
    ),
  );
  const shops = w.orders.map((o) => o.shop);
  out.push(
    q(
      `select souk_assert(count(*) = $4, 'LOCATION_CHANGED')
       from unnest($1::uuid[], $2::uuid[], $3::text[]) as v(id, shop_id, kind)
       join shop_locations l on l.id = v.id and l.shop_id = v.shop_id and l.kind::text = v.kind
         and l.deleted_at is null and (l.kind = 'warehouse' or l.pickup_enabled)`,
      [
        shops.map((s) => s.stockLocationId),
        shops.map((s) => s.shopId),
        shops.map((s) => s.stockLocationKind),
        shops.length,
      ],
    ),
  );

  // A new checkout of a product replaces the buyer's unpaid one (issue 11.1): those earlier
  // checkouts are voided and their orders cancelled here, with their audit rows; the statement
  // answers their holds and PaymentIntents, which the caller lets go once this has committed.
  const replaced = out.length;
  out.push(
    q(
      `with old as (
         select distinct o.checkout_id as id from orders o
         join order_items i on i.order_id = o.id
         where o.buyer_id = $1 and o.status = 'pending_payment' and o.source = 'checkout'
           and o.checkout_id is not null and o.checkout_id <> $2 and i.product_id = any($3::uuid[])),
       voided as (
         update checkouts c set status = 'voided', updated_at = now()
         from old where c.id = old.id and c.status = 'open'
         returning c.id, c.payment_intent_id),
       cancelled as (
         update orders o set status = 'cancelled', updated_at = now()
         from voided v where o.checkout_id = v.id and o.status = 'pending_payment'
         returning o.id),
       audited as (
         insert into audit_log (id, actor_id, actor_type, action, entity_type, entity_id,
           old_value, new_value, request_id)
         select souk_uuidv7(), $4::uuid, $5::text, 'order.cancelled', 'order', c.id::text,
           '{"status":"pending_payment"}'::jsonb,
           jsonb_build_object('status', 'cancelled', 'reason', 'replaced_by_checkout', 'by', $2::text),
           $6::text
         from cancelled c
         union all
         select souk_uuidv7(), $4::uuid, $5::text, 'checkout.voided', 'checkout', v.id::text,
           '{"status":"open"}'::jsonb,
           jsonb_build_object('status', 'voided', 'reason', 'replaced_by_checkout', 'by', $2::text),
           $6::text
         from voided v)
       select 'hold' as kind, i.product_id::text as product_id, i.reservation_id as ref,
         c.id::text as order_id
       from cancelled c join order_items i on i.order_id = c.id where i.reservation_id is not null
       union all
       select 'intent', null, v.payment_intent_id, v.id::text from voided v
       where v.payment_intent_id is not null`,
      [
        buyerId,
        stored.checkoutId,
        lines.map((l) => l.productId),
        w.actor.id ?? null,
        w.actor.type,
        w.actor.requestId ?? null,
      ],
    ),
  );

  const deadline = w.paymentDeadline.toISOString();
  out.push(
    q(
      `insert into checkouts (id, buyer_id, currency, amount_minor, platform_fee_minor,
         transfer_group, status, payment_deadline)
       values ($1::text::uuid, $2, $3, $4, $5, $1::text, 'open', $6)`,
      [stored.checkoutId, buyerId, w.currency, w.totalMinor, w.platformFeeMinor, deadline],
    ),
  );
  // At most MAX_OPEN_CHECKOUTS unpaid at once, this one included. The detail is how long until
  // the first of them lapses (the Retry-After).
  out.push(
    q(
      `select souk_assert(count(*) <= $2, 'TOO_MANY_OPEN_CHECKOUTS',
         greatest(1, ceil(extract(epoch from min(payment_deadline) - now())))::int::text)
       from checkouts where buyer_id = $1 and status = 'open' and payment_deadline > now()`,
      [buyerId, MAX_OPEN_CHECKOUTS],
    ),
  );
  // The buyer's own live address is copied in the write itself (null if it is not theirs: the
  // guard after it then refuses).
  out.push(
    q(
      `insert into orders (id, checkout_id, buyer_id, shop_id, status, source, currency,
         subtotal_minor, delivery_fee_minor, platform_fee_minor, total_minor, fulfilment,
         pickup_location_id, shipping_address, payment_deadline, delivery_slot_start,
         delivery_slot_end, prices_include_tax, tax_minor, delivery_tax_rate_bps,
         delivery_tax_minor)
       select v.id, $1, $2, v.shop_id, 'pending_payment', 'checkout', $3, v.subtotal, v.fee,
         v.platform_fee, v.total, v.method::fulfilment, v.pickup,
         case when v.method = 'delivery' then (
           select jsonb_build_object('recipientName', a.recipient_name, 'line1', a.line1,
             'line2', a.line2, 'city', a.city, 'region', a.region, 'postalCode', a.postal_code,
             'country', a.country, 'phone', a.phone)
           from addresses a where a.id = v.address and a.user_id = $2 and a.deleted_at is null)
         end,
         $4, v.slot_start, v.slot_end, v.incl, v.tax, v.delivery_rate, v.delivery_tax
       from unnest($5::uuid[], $6::uuid[], $7::int[], $8::int[], $9::int[], $10::int[],
         $11::text[], $12::uuid[], $13::uuid[], $14::timestamptz[], $15::timestamptz[],
         $16::bool[], $17::int[], $18::int[], $19::int[])
         as v(id, shop_id, subtotal, fee, platform_fee, total, method, pickup, address,
           slot_start, slot_end, incl, tax, delivery_rate, delivery_tax)`,
      [
        stored.checkoutId,
        buyerId,
        w.currency,
        deadline,
        w.orders.map((o) => o.id),
        shops.map((s) => s.shopId),
        shops.map((s) => s.subtotalMinor),
        shops.map((s) => s.deliveryFeeMinor),
        shops.map((s) => s.platformFeeMinor),
        shops.map((s) => s.totalMinor),
        shops.map((s) => s.choice.method),
        shops.map((s) => (s.choice.method === "pickup" ? s.choice.locationId : null)),
        shops.map((s) => (s.choice.method === "delivery" ? s.choice.addressId : null)),
        shops.map((s) => w.slotOf?.(s.shopId)?.start ?? null),
        shops.map((s) => w.slotOf?.(s.shopId)?.end ?? null),
        shops.map((s) => s.pricesIncludeTax),
        shops.map((s) => s.taxMinor),
        shops.map((s) => s.deliveryTaxRateBps),
        shops.map((s) => s.deliveryTaxMinor),
      ],
    ),
  );
  if (shops.some((s) => s.choice.method === "delivery")) {
    out.push(
      q(
        `select souk_assert(count(*) = 0, 'ADDRESS_INVALID', string_agg(id::text, ','))
         from orders where checkout_id = $1 and fulfilment = 'delivery'
           and shipping_address is null`,
        [stored.checkoutId],
      ),
    );
  }
  const items = w.orders.flatMap((o) =>
    o.items.map((i) => ({ orderId: o.id, locationId: o.shop.stockLocationId, ...i })),
  );
  out.push(
    q(
      `insert into order_items (id, order_id, product_id, title, sku, unit_price_minor, quantity,
         location_id, reservation_id, tax_rate_bps, tax_minor)
       select * from unnest($1::uuid[], $2::uuid[], $3::uuid[], $4::text[], $5::text[],
         $6::int[], $7::int[], $8::uuid[], $9::text[], $10::int[], $11::int[])`,
      [
        items.map((i) => i.id),
        items.map((i) => i.orderId),
        items.map((i) => i.line.productId),
        items.map((i) => i.line.title),
        items.map((i) => i.line.sku),
        items.map((i) => i.line.priceMinor),
        items.map((i) => i.line.quantity),
        items.map((i) => i.locationId),
        items.map((i) => w.reservationOf(i.line.productId)),
        items.map((i) => i.line.tax.rateBps),
        items.map((i) => i.taxMinor),
      ],
    ),
  );

  const entries: AuditEntry[] = [
    {
      action: "checkout.created",
      entityType: "checkout",
      entityId: stored.checkoutId,
      newValue: {
        status: "open",
        source: w.source,
        currency: w.currency,
        amountMinor: w.totalMinor,
        platformFeeMinor: w.platformFeeMinor,
        orderIds: w.orders.map((o) => o.id),
      },
    },
    ...w.orders.map(({ id, shop }) => ({
      action: "order.created",
      entityType: "order",
      entityId: id,
      newValue: {
        status: "pending_payment",
        checkoutId: stored.checkoutId,
        shopId: shop.shopId,
        currency: w.currency,
        totalMinor: shop.totalMinor,
        taxMinor: shop.taxMinor,
        paymentDeadline: deadline,
      },
    })),
  ];
  const audit = auditInsertSql(entries.map((entry) => ({ actor: w.actor, entry })));
  out.push(q(audit.text, audit.params));

  if (w.source === "cart") {
    // The cart is bought as the plan saw it, or not at all. The row lock serializes two confirms
    // of one cart under two keys (a double submit): the second sees the first's change and is
    // refused, then plans again from Postgres and finds the lines gone. The version expression
    // is services/cart/lines.ts's `cartVersion`.
    out.push(
      q("select 1 from carts where buyer_id = $1 for update", [buyerId]),
      q(
        `select souk_assert(coalesce((select
           ((extract(epoch from updated_at) * 1000000)::bigint)::text
           from carts where buyer_id = $1), '') = $2, 'CART_CHANGED')`,
        [buyerId, w.cartVersion ?? ""],
      ),
      q(
        `delete from cart_items ci using carts c
         where c.id = ci.cart_id and c.buyer_id = $1 and ci.product_id = any($2::uuid[])`,
        [buyerId, lines.map((l) => l.productId)],
      ),
      q("update carts set updated_at = now() where buyer_id = $1", [buyerId]),
    );
  }
  return { statements: out, replaced };
}
