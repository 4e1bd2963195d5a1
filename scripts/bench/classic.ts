/**
 * The row-lock designs' tables and the benchmark's reads of them (see ./classic-process.ts).
 *
 * `bench_classic.stock` + `orders` serve the minimal row lock. The "same work" row lock writes
 * what Souk's confirm route writes, in tables shaped like Souk's (`idempotency_keys`,
 * `checkouts`, `orders` with `order_items`, `audit_log`), kept in this schema so the comparison
 * does not depend on Souk's schema as it changes. Its products carry the price plan the route
 * reads (shop, title, SKU, price, currency).
 */
import type pg from "pg";

const SCHEMA_SQL = `
  create schema if not exists bench_classic;
  create table if not exists bench_classic.stock (
    product_id uuid primary key,
    on_hand integer not null
  );
  create table if not exists bench_classic.orders (
    id uuid primary key,
    product_id uuid not null,
    buyer_id uuid not null,
    quantity integer not null,
    idempotency_key text not null unique,
    created_at timestamptz not null default now()
  );
  create index if not exists orders_product_idx on bench_classic.orders (product_id);

  create table if not exists bench_classic.buyers (
    id uuid primary key,
    role text not null default 'buyer',
    blocked_at timestamptz
  );
  create table if not exists bench_classic.products (
    id uuid primary key,
    shop_id uuid not null,
    title text not null,
    sku text not null,
    price_minor integer not null,
    currency text not null,
    status text not null default 'published',
    location_id uuid not null
  );
  create table if not exists bench_classic.product_stock (
    product_id uuid not null references bench_classic.products (id),
    location_id uuid not null,
    on_hand integer not null,
    reserved integer not null default 0,
    updated_at timestamptz not null default now(),
    primary key (product_id, location_id)
  );
  create table if not exists bench_classic.idempotency_keys (
    user_id uuid not null,
    route text not null,
    key text not null,
    request_hash text not null,
    state text not null default 'in_progress',
    locked_until timestamptz not null,
    response_status integer,
    response_body jsonb,
    created_at timestamptz not null default now(),
    expires_at timestamptz not null,
    primary key (user_id, route, key)
  );
  create table if not exists bench_classic.checkouts (
    id uuid primary key,
    buyer_id uuid not null,
    currency text not null,
    amount_minor integer not null,
    platform_fee_minor integer not null,
    payment_intent_id text unique,
    transfer_group text not null,
    status text not null default 'open',
    payment_deadline timestamptz not null,
    created_at timestamptz not null default now(),
    updated_at timestamptz not null default now()
  );
  create table if not exists bench_classic.full_orders (
    id uuid primary key,
    checkout_id uuid references bench_classic.checkouts (id),
    buyer_id uuid not null,
    shop_id uuid not null,
    status text not null default 'pending_payment',
    currency text not null,
    subtotal_minor integer not null,
    platform_fee_minor integer not null,
    total_minor integer not null,
    fulfilment text not null,
    pickup_location_id uuid,
    payment_deadline timestamptz,
    created_at timestamptz not null default now(),
    updated_at timestamptz not null default now()
  );
  create index if not exists full_orders_buyer_idx on bench_classic.full_orders (buyer_id);
  create table if not exists bench_classic.order_items (
    id uuid primary key,
    order_id uuid not null references bench_classic.full_orders (id),
    product_id uuid not null,
    title text not null,
    sku text not null,
    unit_price_minor integer not null,
    quantity integer not null,
    location_id uuid not null
  );
  create index if not exists order_items_product_idx on bench_classic.order_items (product_id);
  create table if not exists bench_classic.audit_log (
    id uuid primary key,
    at timestamptz not null default now(),
    actor_id uuid,
    actor_type text not null,
    action text not null,
    entity_type text not null,
    entity_id text not null,
    old_value jsonb,
    new_value jsonb,
    request_id text
  );
`;

export async function createClassicTables(pool: pg.Pool): Promise<void> {
  await pool.query(SCHEMA_SQL);
}

/** A product's stock row with `units` on hand (the minimal row lock). */
export async function stockClassicProduct(
  pool: pg.Pool,
  productId: string,
  units: number,
): Promise<void> {
  await pool.query("insert into bench_classic.stock (product_id, on_hand) values ($1, $2)", [
    productId,
    units,
  ]);
}

/** A published product with its price plan and `units` on hand at one location (same work). */
export async function stockFullProduct(
  pool: pg.Pool,
  p: { productId: string; shopId: string; locationId: string; units: number },
): Promise<void> {
  await pool.query(
    `with p as (
       insert into bench_classic.products (id, shop_id, title, sku, price_minor, currency, location_id)
       values ($1::uuid, $2, 'Flash sale', $5, 2500, 'EUR', $3) returning id)
     insert into bench_classic.product_stock (product_id, location_id, on_hand)
     select id, $3, $4 from p`,
    [p.productId, p.shopId, p.locationId, p.units, `FLASH-${p.productId.slice(-8)}`],
  );
}

/** Buyers the same-work route may sell to (it reads each one, as Souk checks who may buy). */
export async function insertClassicBuyers(pool: pg.Pool, ids: string[]): Promise<void> {
  for (let i = 0; i < ids.length; i += 5_000) {
    await pool.query(
      "insert into bench_classic.buyers (id) select unnest($1::uuid[]) on conflict do nothing",
      [ids.slice(i, i + 5_000)],
    );
  }
}

/** What Postgres says about one product after a step: on hand, and orders with their units. */
export async function classicTally(
  pool: pg.Pool,
  productId: string,
): Promise<{ onHand: number; orders: number; unitsOrdered: number }> {
  const { rows } = await pool.query<{ on_hand: number; orders: string; units: string }>(
    `select s.on_hand,
            (select count(*) from bench_classic.orders o where o.product_id = s.product_id) as orders,
            (select coalesce(sum(quantity), 0) from bench_classic.orders o
              where o.product_id = s.product_id) as units
       from bench_classic.stock s where s.product_id = $1`,
    [productId],
  );
  const row = rows[0];
  if (!row) throw new Error(`classic product ${productId} has no stock row`);
  return { onHand: row.on_hand, orders: Number(row.orders), unitsOrdered: Number(row.units) };
}

/** The same for the same-work design, with units reserved and PaymentIntents saved. */
export async function fullTally(
  pool: pg.Pool,
  productId: string,
): Promise<{
  onHand: number;
  reserved: number;
  orders: number;
  unitsOrdered: number;
  intents: number;
}> {
  const { rows } = await pool.query<{
    on_hand: number;
    reserved: number;
    orders: string;
    units: string;
    intents: string;
  }>(
    `select s.on_hand, s.reserved,
            count(distinct oi.order_id) as orders,
            coalesce(sum(oi.quantity), 0) as units,
            count(distinct c.payment_intent_id) as intents
       from bench_classic.product_stock s
       left join bench_classic.order_items oi on oi.product_id = s.product_id
       left join bench_classic.full_orders o on o.id = oi.order_id
       left join bench_classic.checkouts c on c.id = o.checkout_id
      where s.product_id = $1
      group by s.on_hand, s.reserved`,
    [productId],
  );
  const row = rows[0];
  if (!row) throw new Error(`same-work product ${productId} has no stock row`);
  return {
    onHand: row.on_hand,
    reserved: row.reserved,
    orders: Number(row.orders),
    unitsOrdered: Number(row.units),
    intents: Number(row.intents),
  };
}
