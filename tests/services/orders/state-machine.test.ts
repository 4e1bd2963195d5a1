import { and, eq, inArray } from "drizzle-orm";
import { describe, expect, it } from "vitest";
import { withAudit } from "../../../src/db/audit.ts";
import { auditLog, orders } from "../../../src/db/schema/index.ts";
import { type OrderStatus, orderStatus } from "../../../src/db/schema/orders.ts";
import { uuidv7 } from "../../../src/lib/ids.ts";
import { DomainError } from "../../../src/services/errors.ts";
import {
  IllegalTransition,
  ONLY_FOR,
  ORDER_TRANSITIONS,
  transitionOrder,
} from "../../../src/services/orders/state-machine.ts";
import { withDb } from "../../helpers/db.ts";
import { seedShop } from "../../helpers/shops.ts";
import { registerUser } from "../../helpers/users.ts";

const STATES = orderStatus.enumValues;
const pairs = STATES.flatMap((from) => STATES.map((to) => ({ from, to })));
const legal = pairs.filter(({ from, to }) => ORDER_TRANSITIONS[from].includes(to));
const illegal = pairs.filter(({ from, to }) => !ORDER_TRANSITIONS[from].includes(to));

/** One seeded order per (from, to) pair, in state `from`. */
async function seedOrders(list: Array<{ from: OrderStatus; to: OrderStatus }>) {
  const buyer = await registerUser();
  const shop = await seedShop();
  const ids = list.map(() => uuidv7());
  await withDb((db) =>
    db.insert(orders).values(
      list.map(({ from, to }, i) => ({
        id: ids[i] ?? uuidv7(),
        // A pickup state (ready_for_pickup, collected) is reached by pickup orders only.
        fulfilment: ONLY_FOR[to] ?? ONLY_FOR[from] ?? ("delivery" as const),
        buyerId: buyer.id,
        shopId: shop.id,
        status: from,
        currency: "EUR",
        subtotalMinor: 1_000,
        platformFeeMinor: 20,
        totalMinor: 1_000,
      })),
    ),
  );
  return ids;
}

const actor = { type: "system" as const, id: null, requestId: "state-machine-test" };

describe("the order state machine", () => {
  it("has a row for every state and only known states as targets", () => {
    expect(Object.keys(ORDER_TRANSITIONS).sort()).toEqual([...STATES].sort());
    for (const targets of Object.values(ORDER_TRANSITIONS)) {
      for (const t of targets) expect(STATES).toContain(t);
    }
    expect(ORDER_TRANSITIONS.refunded).toEqual([]);
  });

  it("allows every legal transition once, each with exactly one audit row", async () => {
    const ids = await seedOrders(legal);
    for (const [i, { from, to }] of legal.entries()) {
      const orderId = ids[i] ?? "";
      const next = await withDb((db) =>
        withAudit(db, actor, (tx, audit) =>
          transitionOrder(tx, audit, { orderId, to, reason: `test ${from} → ${to}` }),
        ),
      );
      expect(next.status, `${from} → ${to}`).toBe(to);
    }
    const rows = await withDb((db) =>
      db
        .select()
        .from(auditLog)
        .where(and(eq(auditLog.entityType, "order"), inArray(auditLog.entityId, ids))),
    );
    expect(rows).toHaveLength(legal.length);
    for (const [i, { from, to }] of legal.entries()) {
      const mine = rows.filter((r) => r.entityId === ids[i]);
      expect(mine, `${from} → ${to}`).toHaveLength(1);
      expect(mine[0]).toMatchObject({
        action: `order.${to}`,
        actorType: "system",
        oldValue: { status: from },
        newValue: { status: to, reason: `test ${from} → ${to}` },
      });
    }
  });

  it("refuses every illegal transition with a 409 naming the current state, writing nothing", async () => {
    const ids = await seedOrders(illegal);
    for (const [i, { from, to }] of illegal.entries()) {
      const orderId = ids[i] ?? "";
      let caught: unknown = null;
      try {
        await withDb((db) =>
          withAudit(db, actor, (tx, audit) =>
            transitionOrder(tx, audit, { orderId, to, reason: "must fail" }),
          ),
        );
      } catch (err) {
        caught = err;
      }
      expect(caught, `${from} → ${to}`).toBeInstanceOf(IllegalTransition);
      const e = caught as DomainError;
      expect(e.code).toBe("CONFLICT");
      expect(e.message).toContain(`is ${from}`);
      expect(e.details).toMatchObject({ currentStatus: from, requestedStatus: to });
    }
    const statuses = await withDb((db) =>
      db
        .select({ id: orders.id, status: orders.status })
        .from(orders)
        .where(inArray(orders.id, ids)),
    );
    for (const [i, { from }] of illegal.entries()) {
      expect(statuses.find((s) => s.id === ids[i])?.status).toBe(from);
    }
    const audits = await withDb((db) =>
      db.select().from(auditLog).where(inArray(auditLog.entityId, ids)),
    );
    expect(audits).toEqual([]);
  });

  it("says in words which state the order is in and what it cannot become", async () => {
    const [orderId] = await seedOrders([{ from: "delivered", to: "shipped" }]);
    const err = await withDb((db) =>
      withAudit(db, actor, (tx, audit) =>
        transitionOrder(tx, audit, { orderId: orderId ?? "", to: "shipped", reason: "x" }),
      ),
    ).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(DomainError);
    expect((err as DomainError).message).toBe(
      `Order ${orderId} is delivered; it cannot become shipped.`,
    );
  });

  it("refuses the pickup states to a delivery order", async () => {
    const [orderId] = await seedOrders([{ from: "ready", to: "shipped" }]);
    const err = await withDb((db) =>
      withAudit(db, actor, (tx, audit) =>
        transitionOrder(tx, audit, { orderId: orderId ?? "", to: "ready_for_pickup", reason: "x" }),
      ),
    ).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(IllegalTransition);
    expect((err as DomainError).details).toMatchObject({
      currentStatus: "ready",
      requestedStatus: "ready_for_pickup",
    });
  });
});
