import { and, desc, eq, inArray, lt, sql } from "drizzle-orm";
import { z } from "zod";
import { withAudit } from "../../db/audit.ts";
import type { Queryable, Tx } from "../../db/client.ts";
import {
  RECOMMENDATION_KINDS,
  RECOMMENDATION_STATUSES,
  type RecommendationKind,
  type RecommendationRow,
  type RecommendationStatus,
  recommendations,
  type Urgency,
} from "../../db/schema/intelligence.ts";
import { uuidv7 } from "../../lib/ids.ts";
import { type Page, toPage } from "../../lib/pagination.ts";
import type { ServiceContext } from "../context.ts";
import { Conflict, DomainError, NotFound } from "../errors.ts";
import { requireShopPermission } from "../shops/access.ts";
import { keysetOr422 } from "./cursor.ts";
import type { CustomerInsight } from "./customers.ts";
import { addDays, daysBetween } from "./days.ts";
import type { ProductReorder } from "./reorder.ts";

/** A done or dismissed recommendation keeps its subject quiet this long. */
export const QUIET_DAYS = 14;
/** Slow stock: more days of cover than this (or no sale for SLOW_NO_SALE_DAYS with stock). */
export const SLOW_COVER_DAYS = 90;
export const SLOW_NO_SALE_DAYS = 60;
/** Selling above forecast needs at least this many units in the last week (noise guard). */
export const ABOVE_FORECAST_MIN_UNITS = 3;
/** Win back: high urgency when at-risk customers hold this share of the shop's spend. */
export const WIN_BACK_HIGH_SHARE = 0.2;

export interface ProductSignals extends ProductReorder {
  recent: { actual7: number; expected7: number; upper80: number } | null;
  unitsLast28: number;
  lastSaleDay: string | null;
  historyDays: number;
}

export interface Recommendation {
  kind: RecommendationKind;
  subject: string;
  productId: string | null;
  urgency: Urgency;
  title: string;
  detail: string;
  figures: Record<string, unknown>;
}

/**
 * The shop's actions, from its products' reorder plans and recent sales and its customers:
 *
 * - reorder: a location at or below its reorder point; high when the forecast stock-out comes
 *   before an order placed today would arrive (today + lead time), else medium.
 * - restock_above_forecast: the last 7 days sold above the 80% upper bound of what the chosen
 *   method (fitted without them) expected, and at least 3 units; high when stock covers less
 *   than the lead time, else medium.
 * - win_back: customers in the at_risk segment or at high churn risk with ≥ 2 orders; high when
 *   they hold ≥ 20% of the shop's customer spend, else medium.
 * - move_slow_stock: stock on hand with more than 90 days of cover, or no sale in 60 days
 *   (products with 30+ days of history only); medium past 180 days of cover or 90 days without
 *   a sale, else low.
 */
export function generateRecommendations(input: {
  today: string;
  products: readonly ProductSignals[];
  customers: readonly CustomerInsight[];
}): Recommendation[] {
  const out: Recommendation[] = [];
  const { today } = input;
  for (const p of input.products) {
    const due = p.locations.filter((l) => l.status === "reorder_now");
    if (due.length > 0) {
      const arrival = addDays(today, p.leadTimeDays);
      const early = due.some((l) => l.stockoutDay !== null && l.stockoutDay < arrival);
      const first = due
        .map((l) => l.stockoutDay)
        .filter((d): d is string => d !== null)
        .sort()[0];
      const qty = due.reduce((s, l) => s + l.suggestedQuantity, 0);
      out.push({
        kind: "reorder",
        subject: p.productId,
        productId: p.productId,
        urgency: early ? "high" : "medium",
        title: `Reorder ${p.title} (${p.sku}): ${qty} units`,
        detail:
          `${due.map((l) => `${l.code}: ${l.available} available, reorder point ${l.reorderPoint}`).join("; ")}. ` +
          `Forecast stock-out ${first ?? "not within a year"}; an order placed today arrives ${arrival} ` +
          `(lead time ${p.leadTimeDays} days, service level ${p.serviceLevel}).`,
        figures: {
          suggestedQuantity: qty,
          stockoutDay: first ?? null,
          arrivalDay: arrival,
          leadTimeDays: p.leadTimeDays,
          serviceLevel: p.serviceLevel,
          method: p.method,
          locations: due.map((l) => ({
            locationId: l.locationId,
            code: l.code,
            available: l.available,
            reorderPoint: l.reorderPoint,
            safetyStock: l.safetyStock,
            demandOverLeadTime: l.demandOverLeadTime,
            suggestedQuantity: l.suggestedQuantity,
            stockoutDay: l.stockoutDay,
          })),
        },
      });
    }
    const r = p.recent;
    if (r && r.actual7 >= ABOVE_FORECAST_MIN_UNITS && r.actual7 > r.upper80) {
      const cover = p.locations.reduce<number | null>(
        (min, l) => (l.daysOfCover === null ? min : Math.min(min ?? l.daysOfCover, l.daysOfCover)),
        null,
      );
      out.push({
        kind: "restock_above_forecast",
        subject: p.productId,
        productId: p.productId,
        urgency: cover !== null && cover < p.leadTimeDays ? "high" : "medium",
        title: `${p.title} (${p.sku}) is selling above forecast`,
        detail:
          `${r.actual7} units in the last 7 days against ${r.expected7} expected ` +
          `(80% upper bound ${r.upper80}); ${p.available} available.`,
        figures: { ...r, available: p.available, daysOfCover: cover, method: p.method },
      });
    }
    if (p.historyDays >= 30 && p.available > 0) {
      const idle = p.lastSaleDay === null ? null : daysBetween(p.lastSaleDay, today);
      const daily = p.unitsLast28 / 28;
      const cover = daily > 0 ? Math.round(p.available / daily) : null;
      const noSale = idle === null || idle >= SLOW_NO_SALE_DAYS;
      if (noSale || (cover !== null && cover > SLOW_COVER_DAYS)) {
        const severe =
          (cover !== null && cover > 2 * SLOW_COVER_DAYS) || idle === null || idle >= 90;
        out.push({
          kind: "move_slow_stock",
          subject: p.productId,
          productId: p.productId,
          urgency: severe ? "medium" : "low",
          title: `Move slow stock: ${p.title} (${p.sku})`,
          detail:
            `${p.available} available; ${p.unitsLast28} sold in the last 28 days` +
            `${cover === null ? "" : ` (${cover} days of cover)`}; ` +
            `last sale ${p.lastSaleDay ?? "never"}. Consider a promotion or a bundle.`,
          figures: {
            available: p.available,
            unitsLast28: p.unitsLast28,
            daysOfCover: cover,
            lastSaleDay: p.lastSaleDay,
            daysSinceLastSale: idle,
          },
        });
      }
    }
  }
  const atRisk = input.customers.filter(
    (c) => c.segment === "at_risk" || (c.churnRisk === "high" && c.orders >= 2),
  );
  if (atRisk.length > 0) {
    const total = input.customers.reduce((s, c) => s + c.spendMinor, 0);
    const stake = atRisk.reduce((s, c) => s + c.spendMinor, 0);
    const share = total > 0 ? stake / total : 0;
    const top = [...atRisk].sort((a, b) => b.spendMinor - a.spendMinor).slice(0, 10);
    out.push({
      kind: "win_back",
      subject: "shop",
      productId: null,
      urgency: share >= WIN_BACK_HIGH_SHARE ? "high" : "medium",
      title: `Win back ${atRisk.length} customer${atRisk.length === 1 ? "" : "s"} at risk`,
      detail:
        `${atRisk.length} repeat customers have gone quiet against their usual rhythm; ` +
        `together they spent ${stake} (minor units, ${Math.round(share * 100)}% of customer spend).`,
      figures: {
        customers: atRisk.length,
        spendAtStakeMinor: stake,
        currency: top[0]?.currency ?? null,
        shareOfSpend: Math.round(share * 1000) / 1000,
        top: top.map((c) => ({
          buyerId: c.buyerId,
          spendMinor: c.spendMinor,
          orders: c.orders,
          daysSinceLast: c.daysSinceLast,
          typicalGapDays: c.typicalGapDays,
          churnRisk: c.churnRisk,
        })),
      },
    });
  }
  return out;
}

/**
 * Writes a recompute's recommendations (inside the caller's transaction): an open one of the
 * same kind and subject gets the new numbers and keeps its status; a subject done or dismissed
 * within the quiet period is skipped; open ones whose reason is gone are removed.
 */
export async function syncRecommendations(
  tx: Tx,
  shopId: string,
  recs: readonly Recommendation[],
  now: Date,
): Promise<{ raised: number; refreshed: number; removed: number }> {
  const open = await tx
    .select({
      id: recommendations.id,
      kind: recommendations.kind,
      subject: recommendations.subject,
    })
    .from(recommendations)
    .where(
      and(eq(recommendations.shopId, shopId), inArray(recommendations.status, ["new", "seen"])),
    );
  const quiet = await tx
    .select({ kind: recommendations.kind, subject: recommendations.subject })
    .from(recommendations)
    .where(
      and(
        eq(recommendations.shopId, shopId),
        inArray(recommendations.status, ["done", "dismissed"]),
        sql`${recommendations.statusChangedAt} > ${new Date(now.getTime() - QUIET_DAYS * 86_400_000)}`,
      ),
    );
  const key = (r: { kind: string; subject: string }) => `${r.kind}:${r.subject}`;
  const openBy = new Map(open.map((r) => [key(r), r.id]));
  const quietKeys = new Set(quiet.map(key));
  const kept = new Set<string>();
  let raised = 0;
  let refreshed = 0;
  for (const rec of recs) {
    const id = openBy.get(key(rec));
    const values = {
      urgency: rec.urgency,
      title: rec.title,
      detail: rec.detail,
      figures: rec.figures,
      updatedAt: now,
    };
    if (id) {
      kept.add(id);
      await tx.update(recommendations).set(values).where(eq(recommendations.id, id));
      refreshed += 1;
    } else if (!quietKeys.has(key(rec))) {
      await tx.insert(recommendations).values({
        id: uuidv7(),
        shopId,
        kind: rec.kind,
        subject: rec.subject,
        productId: rec.productId,
        createdAt: now,
        ...values,
      });
      raised += 1;
    }
  }
  const gone = open.filter((r) => !kept.has(r.id)).map((r) => r.id);
  if (gone.length > 0) await tx.delete(recommendations).where(inArray(recommendations.id, gone));
  return { raised, refreshed, removed: gone.length };
}

export interface RecommendationView {
  id: string;
  shopId: string;
  kind: RecommendationKind;
  productId: string | null;
  urgency: Urgency;
  status: RecommendationStatus;
  title: string;
  detail: string;
  figures: Record<string, unknown>;
  createdAt: string;
  updatedAt: string;
  statusChangedAt: string | null;
}

function recommendationView(r: RecommendationRow): RecommendationView {
  return {
    id: r.id,
    shopId: r.shopId,
    kind: r.kind,
    productId: r.productId,
    urgency: r.urgency,
    status: r.status,
    title: r.title,
    detail: r.detail,
    figures: r.figures,
    createdAt: r.createdAt.toISOString(),
    updatedAt: r.updatedAt.toISOString(),
    statusChangedAt: r.statusChangedAt?.toISOString() ?? null,
  };
}

export const recommendationListQuery = z.object({
  shopId: z.uuid(),
  status: z.enum([...RECOMMENDATION_STATUSES, "open", "all"]).default("open"),
  kind: z.enum(RECOMMENDATION_KINDS).optional(),
  limit: z.coerce.number().int().min(1).max(100).default(20),
  cursor: z.string().min(1).max(512).optional(),
});

/** A page of the shop's feed, newest first (the caller checked access). */
export async function listRecommendations(
  db: Queryable,
  q: z.output<typeof recommendationListQuery>,
): Promise<Page<RecommendationView>> {
  const after = keysetOr422(q.cursor, z.object({ id: z.uuid() }));
  const status =
    q.status === "all"
      ? undefined
      : q.status === "open"
        ? inArray(recommendations.status, ["new", "seen"])
        : eq(recommendations.status, q.status);
  const rows = await db
    .select()
    .from(recommendations)
    .where(
      and(
        eq(recommendations.shopId, q.shopId),
        status,
        q.kind ? eq(recommendations.kind, q.kind) : undefined,
        after ? lt(recommendations.id, after.id) : undefined,
      ),
    )
    .orderBy(desc(recommendations.id))
    .limit(q.limit + 1);
  const page = toPage(rows, q.limit, (r) => ({ id: r.id }));
  return { items: page.items.map(recommendationView), nextCursor: page.nextCursor };
}

/** Which status may follow which: done and dismissed are final. */
const NEXT: Record<RecommendationStatus, readonly RecommendationStatus[]> = {
  new: ["seen", "done", "dismissed"],
  seen: ["done", "dismissed"],
  done: [],
  dismissed: [],
};

export const recommendationPatch = z.object({
  status: z.enum(["seen", "done", "dismissed"]),
});

/**
 * Moves a recommendation along new → seen → done | dismissed, audited, for an owner or manager
 * of its shop (anyone else 404). The same status again changes nothing; going back, or moving
 * one already done or dismissed, is a 409.
 */
export async function setRecommendationStatus(
  ctx: ServiceContext,
  userId: string,
  id: string,
  raw: z.input<typeof recommendationPatch>,
): Promise<RecommendationView> {
  const { status } = recommendationPatch.parse(raw);
  const load = async (db: Queryable, lock: boolean) => {
    const query = db.select().from(recommendations).where(eq(recommendations.id, id));
    const [row] = lock ? await query.for("update") : await query;
    if (!row) throw new NotFound("recommendation", id);
    try {
      await requireShopPermission(db, row.shopId, userId, "analytics.read");
    } catch (err) {
      if (err instanceof DomainError && err.code === "NOT_FOUND") {
        throw new NotFound("recommendation", id);
      }
      throw err;
    }
    return row;
  };
  const current = await load(ctx.db, false);
  if (current.status === status) return recommendationView(current);
  return withAudit(ctx.db, ctx.actor, async (tx, audit) => {
    const row = await load(tx, true);
    if (!NEXT[row.status].includes(status)) {
      throw new Conflict(`A recommendation that is ${row.status} cannot become ${status}.`, {
        status: row.status,
      });
    }
    const now = new Date();
    const [updated] = await tx
      .update(recommendations)
      .set({ status, statusChangedAt: now, statusChangedBy: userId, updatedAt: now })
      .where(eq(recommendations.id, id))
      .returning();
    await audit.record({
      action: "recommendation.status_changed",
      entityType: "recommendation",
      entityId: id,
      oldValue: { status: row.status },
      newValue: { status, kind: row.kind, subject: row.subject },
    });
    if (!updated) throw new NotFound("recommendation", id);
    return recommendationView(updated);
  });
}
