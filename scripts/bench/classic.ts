/** The classic design's tables and the benchmark's reads of them (see ./classic-process.ts). */
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
`;

export async function createClassicTables(pool: pg.Pool): Promise<void> {
  await pool.query(SCHEMA_SQL);
}

/** A product's stock row with `units` on hand. */
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
