/**
 * The invariants of shared/DESIGN.md as `npm run faults` checks them after every fault, over
 * everything the run has made so far (not only the last scenario's):
 *
 * 1. orders = units sold = successful answers: every order not voided answers a confirm the
 *    harness saw succeed, every success has its orders, and each product's object holds exactly
 *    the units of its pending orders and has sold exactly the units of its paid ones;
 * 2. stock never negative: the object's levels, and its Postgres mirror, gapless, each movement
 *    once, ending where the object is;
 * 3. no hold outlives its TTL: read from the objects' own SQLite (wrangler's persisted state);
 * 4. every PaymentIntent Stripe says succeeded has exactly one paid checkout or one refund;
 * 5. every webhook applied once: each event Stripe delivered is recorded and processed, no
 *    order took the same transition twice, no transfer or refund twice;
 * 6. the audit log complete: one `order.created` per order, one record of each order transition
 *    the order went through, one record per stock movement.
 */
import { readdirSync } from "node:fs";
import path from "node:path";
import { DatabaseSync } from "node:sqlite";
import { errorMessage } from "../../src/lib/error-message.ts";
import type { Rig } from "./rig.ts";
import { levels, paymentIntents, recentEvents, waitFor, webhooksIdle } from "./traffic.ts";

export const INVARIANTS = [
  "orders=units=answers",
  "stock≥0",
  "holds≤TTL",
  "paid PI→1 order|refund",
  "webhooks once",
  "audit complete",
] as const;
export type Invariant = (typeof INVARIANTS)[number];

/** What the harness knows it did: products made, on hand set, successful checkouts. */
export class Ledger {
  /** productId → the units the seller set on hand (plus later seller adjustments). */
  readonly products = new Map<string, number>();
  /** Checkout ids a confirm answered 201 (or replayed 200) for. */
  readonly answered = new Set<string>();
  note(checkoutId: string | undefined | null): void {
    if (checkoutId) this.answered.add(checkoutId);
  }
}

const SOLD = ["paid", "picking", "ready", "shipped", "delivered", "partially_refunded", "refunded"];
/** Grace past a hold's expiry for the object's alarm to release it. */
const HOLD_GRACE_MS = 15_000;

export interface CheckResult {
  breaches: Array<{ invariant: Invariant; detail: string }>;
}

/**
 * Lets the system settle (webhooks delivered, the queue drained, every object's outbox flushed),
 * then checks all six. Settling has a bound: what is still moving after it counts as a breach.
 */
export async function checkInvariants(
  rig: Rig,
  ledger: Ledger,
  opts: { settleMs?: number; holdLimitMs: number; sinceSec: number },
): Promise<CheckResult> {
  const breaches: CheckResult["breaches"] = [];
  const breach = (invariant: Invariant, detail: string) => breaches.push({ invariant, detail });
  const settleMs = opts.settleMs ?? 60_000;
  const { pool } = rig;

  await webhooksIdle(rig).catch(() => false);
  // Delivered is not applied: the queue may still hold events the emulator has sent. Every
  // platform event made since `sinceSec` must reach the consumer and be applied.
  const made = (await recentEvents(rig))
    .filter((e) => !e.account && e.created >= opts.sinceSec)
    .map((e) => e.id);
  let missing: string[] = [];
  await waitFor(async () => {
    const { rows } = await pool.query<{ id: string }>(
      "select id from stripe_events where processed_at is not null and id = any($1)",
      [made],
    );
    const done = new Set(rows.map((r) => r.id));
    missing = made.filter((id) => !done.has(id));
    return missing.length === 0;
  }, settleMs);
  if (missing.length > 0) {
    breach(
      "webhooks once",
      `${missing.length} events sent and never applied: ${missing.slice(0, 3).join(", ")}`,
    );
  }
  const drained = await waitFor(async () => {
    const { rows } = await pool.query<{ n: string }>(
      "select count(*) as n from stripe_events where processed_at is null",
    );
    return Number(rows[0]?.n ?? 0) === 0;
  }, settleMs);
  if (!drained) {
    const { rows } = await pool.query<{ id: string; type: string }>(
      "select id, type from stripe_events where processed_at is null limit 5",
    );
    breach("webhooks once", `events never processed: ${rows.map((r) => r.id).join(", ")}`);
  }

  // 1 and 2: per product.
  for (const [productId, setOnHand] of ledger.products) {
    let view = await levels(rig, productId).catch(() => null);
    await waitFor(async () => {
      view = await levels(rig, productId);
      return view.pendingMirror === 0;
    }, settleMs);
    if (!view) {
      breach("stock≥0", `${productId}: the object did not answer`);
      continue;
    }
    const v = view as Awaited<ReturnType<typeof levels>>;
    if (
      v.onHand < 0 ||
      v.reserved < 0 ||
      v.available < 0 ||
      v.reserved + v.available !== v.onHand
    ) {
      breach(
        "stock≥0",
        `${short(productId)}: on hand ${v.onHand}, reserved ${v.reserved}, available ${v.available}`,
      );
    }
    if (v.pendingMirror !== 0) {
      breach("stock≥0", `${short(productId)}: ${v.pendingMirror} movements never reached Postgres`);
    }
    const { rows: units } = await pool.query<{ pending: string; sold: string }>(
      `select coalesce(sum(oi.quantity) filter (where o.status = 'pending_payment'), 0) as pending,
              coalesce(sum(oi.quantity) filter (where o.status = any($2)), 0) as sold
         from order_items oi join orders o on o.id = oi.order_id where oi.product_id = $1`,
      [productId, SOLD],
    );
    const pending = Number(units[0]?.pending ?? 0);
    const sold = Number(units[0]?.sold ?? 0);
    if (v.reserved !== pending) {
      breach(
        "orders=units=answers",
        `${short(productId)}: object holds ${v.reserved} units, pending orders ${pending}`,
      );
    }
    if (v.onHand !== setOnHand - sold) {
      breach(
        "orders=units=answers",
        `${short(productId)}: on hand ${v.onHand} ≠ ${setOnHand} set − ${sold} sold`,
      );
    }
    const { rows: mirror } = await pool.query<{
      n: string;
      lo: string | null;
      hi: string | null;
      on_hand: number | null;
      reserved: number | null;
      unaudited: string;
      twice: string;
    }>(
      `select count(*) as n, min(sequence) as lo, max(sequence) as hi,
              (select on_hand_after from stock_movements where product_id = $1 and location_id = $2
                order by sequence desc limit 1) as on_hand,
              (select reserved_after from stock_movements where product_id = $1 and location_id = $2
                order by sequence desc limit 1) as reserved,
              count(*) filter (where (select count(*) from audit_log a
                 where a.entity_id = m.id::text) = 0) as unaudited,
              count(*) filter (where (select count(*) from audit_log a
                 where a.entity_id = m.id::text) > 1) as twice
         from stock_movements m where product_id = $1`,
      [productId, rig.shop.branchId],
    );
    const m = mirror[0];
    const n = Number(m?.n ?? 0);
    if (n !== v.sequence || (n > 0 && (Number(m?.lo) !== 1 || Number(m?.hi) !== n))) {
      breach(
        "stock≥0",
        `${short(productId)}: mirror has ${n} movements (${m?.lo}…${m?.hi}), object ${v.sequence}`,
      );
    } else if (n > 0 && (m?.on_hand !== v.onHand || m?.reserved !== v.reserved)) {
      breach(
        "stock≥0",
        `${short(productId)}: mirror ends at ${m?.on_hand}/${m?.reserved}, object ${v.onHand}/${v.reserved}`,
      );
    }
    if (Number(m?.unaudited) > 0 || Number(m?.twice) > 0) {
      breach(
        "audit complete",
        `${short(productId)}: ${m?.unaudited} movements without audit, ${m?.twice} with two`,
      );
    }
  }

  // 1: orders against answers.
  const { rows: orders } = await pool.query<{
    id: string;
    checkout_id: string | null;
    status: string;
    created: string;
    transitions: Record<string, number> | null;
    source: string;
  }>(
    `select o.id, o.checkout_id, o.status, o.source,
            (select count(*) from audit_log a where a.entity_id = o.id::text
               and a.action = 'order.created') as created,
            (select jsonb_object_agg(action, n) from (select action, count(*) as n from audit_log a
               where a.entity_id = o.id::text and a.action like 'order.%' group by action) t)
              as transitions
       from orders o where o.shop_id = $1`,
    [rig.shop.id],
  );
  const ordered = new Set<string>();
  for (const o of orders) {
    if (o.checkout_id) ordered.add(o.checkout_id);
    const answered = o.checkout_id !== null && ledger.answered.has(o.checkout_id);
    // An auction's order answers its close, not a confirm: the auction faults check it.
    if (!answered && o.status !== "cancelled" && o.source !== "auction") {
      breach(
        "orders=units=answers",
        `order ${short(o.id)} (${o.status}) answers no successful confirm`,
      );
    }
    if (Number(o.created) !== 1) {
      breach("audit complete", `order ${short(o.id)} has ${o.created} order.created records`);
    }
    const t = o.transitions ?? {};
    if (o.status !== "pending_payment" && !t[`order.${o.status}`]) {
      breach(
        "audit complete",
        `order ${short(o.id)} is ${o.status} without an order.${o.status} record`,
      );
    }
    for (const [action, count] of Object.entries(t)) {
      if (Number(count) > 1 && action !== "order.refund_recorded") {
        breach("webhooks once", `order ${short(o.id)}: ${action} recorded ${count} times`);
      }
    }
  }
  for (const id of ledger.answered) {
    if (!ordered.has(id))
      breach("orders=units=answers", `checkout ${short(id)} answered 2xx has no order`);
  }

  // 3: holds, from the objects themselves.
  const holds = readHolds(rig.persistTo);
  if (holds.error) {
    breach("holds≤TTL", `could not read the objects' state: ${holds.error}`);
  } else {
    const now = Date.now();
    for (const h of holds.active) {
      if (h.expiresAt + HOLD_GRACE_MS < now) {
        breach(
          "holds≤TTL",
          `hold ${h.key} active ${Math.round((now - h.expiresAt) / 1000)} s past its expiry`,
        );
      }
      if (h.expiresAt - h.createdAt > opts.holdLimitMs) {
        breach(
          "holds≤TTL",
          `hold ${h.key} set to last ${Math.round((h.expiresAt - h.createdAt) / 60_000)} min`,
        );
      }
    }
    const { rows } = await pool.query<{ n: string }>(
      `select coalesce(sum(oi.quantity), 0) as n from order_items oi join orders o on o.id = oi.order_id
        where o.status = 'pending_payment' and o.shop_id = $1 and o.source <> 'auction'`,
      [rig.shop.id],
    );
    const held = holds.active.reduce((s, h) => s + h.quantity, 0);
    if (held !== Number(rows[0]?.n ?? 0)) {
      breach("holds≤TTL", `${held} units held in objects, ${rows[0]?.n} in pending orders`);
    }
  }

  // 4: money.
  const intents = await paymentIntents(rig);
  const succeeded = intents.filter((pi) => pi.status === "succeeded");
  // The checkout is found as the payment path finds it: by the intent's metadata (its id reaches
  // checkouts.payment_intent_id only through the payment_intent.created event).
  const checkoutOfPi = new Map(succeeded.map((pi) => [pi.id, pi.metadata?.checkout_id ?? ""]));
  const { rows: money } = await pool.query<{
    id: string;
    paid: string;
    refunds: string;
    issues: string;
  }>(
    `select c.id,
            (select count(*) from orders o where o.checkout_id = c.id and o.status = any($2)) as paid,
            (select count(*) from refunds r join orders o on o.id = r.order_id
              where o.checkout_id = c.id and r.status <> 'failed') as refunds,
            (select count(*) from payment_issues i where i.checkout_id = c.id
              and i.resolved_at is null) as issues
       from checkouts c where c.id::text = any($1)`,
    [[...checkoutOfPi.values()].filter((id) => id !== ""), SOLD],
  );
  const byCheckout = new Map(money.map((r) => [r.id, r]));
  for (const pi of succeeded) {
    const r = byCheckout.get(checkoutOfPi.get(pi.id) ?? "");
    const paid = Number(r?.paid ?? 0) > 0 ? 1 : 0;
    const refunded = Number(r?.refunds ?? 0);
    if (paid + refunded !== 1) {
      breach(
        "paid PI→1 order|refund",
        `${pi.id}: ${paid ? "paid orders" : "no paid order"}, ${refunded} refunds${r ? "" : " (no checkout)"}${Number(r?.issues) > 0 ? `, ${r?.issues} open payment issues` : ""}`,
      );
    }
  }

  // 5: events delivered once each, transfers and refunds once.
  const { rows: dup } = await pool.query<{ what: string; n: string }>(
    `select 'transfers' as what, count(*) - count(distinct order_id) as n from transfers
     union all select 'refunds', count(*) - count(distinct (order_id, reason_key)) from refunds`,
  );
  for (const d of dup) {
    if (Number(d.n) > 0) breach("webhooks once", `${d.n} ${d.what} twice`);
  }
  return { breaches };
}

interface Hold {
  key: string;
  quantity: number;
  expiresAt: number;
  createdAt: number;
}

/** Active holds in every ProductStock object's SQLite file under wrangler's persisted state. */
export function readHolds(persistTo: string): { active: Hold[]; error: string | null } {
  const active: Hold[] = [];
  try {
    const files: string[] = [];
    const walk = (dir: string) => {
      for (const e of readdirSync(dir, { withFileTypes: true })) {
        const p = path.join(dir, e.name);
        if (e.isDirectory()) walk(p);
        else if (e.name.endsWith(".sqlite") && dir.includes("ProductStock")) files.push(p);
      }
    };
    walk(persistTo);
    if (files.length === 0) return { active, error: `no ProductStock SQLite under ${persistTo}` };
    for (const file of files) {
      const db = new DatabaseSync(file, { readOnly: true });
      try {
        const has = db
          .prepare("select 1 from sqlite_master where type = 'table' and name = 'reservations'")
          .get();
        if (!has) continue;
        const rows = db
          .prepare(
            "select key, quantity, expires_at, created_at from reservations where state = 'active'",
          )
          .all() as Array<{
          key: string;
          quantity: number;
          expires_at: number;
          created_at: number;
        }>;
        for (const r of rows) {
          active.push({
            key: r.key,
            quantity: r.quantity,
            expiresAt: r.expires_at,
            createdAt: r.created_at,
          });
        }
      } finally {
        db.close();
      }
    }
    return { active, error: null };
  } catch (error) {
    return { active, error: errorMessage(error) };
  }
}

function short(id: string): string {
  return id.length > 12 ? `…${id.slice(-8)}` : id;
}
