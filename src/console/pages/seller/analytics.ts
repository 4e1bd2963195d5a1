import { Hono } from "hono";
import { html } from "hono/html";
import { z } from "zod";
import type { AppEnv } from "../../../http/context.ts";
import { serviceContext } from "../../../http/service-context.ts";
import { addDays } from "../../../services/analytics/period.ts";
import { getSeries } from "../../../services/analytics/series.ts";
import { NotFound } from "../../../services/errors.ts";
import { SEGMENTS } from "../../../services/intelligence/customers.ts";
import {
  type ForecastView,
  getCustomers,
  getForecasts,
  getRecommendations,
  getReorder,
} from "../../../services/intelligence/queries.ts";
import {
  type RecommendationView,
  setRecommendationStatus,
} from "../../../services/intelligence/recommendations.ts";
import type { ProductReorder } from "../../../services/intelligence/reorder.ts";
import { alert, type Html, money, page } from "../../layout.ts";
import { viewerOf } from "../../session.ts";
import { chartFigure, chartScriptTag, dayX } from "./charts.ts";
import {
  flash,
  may,
  NO_SHOP,
  notForRole,
  sellerNav,
  sellerScope,
  shopHref,
  today,
  when,
} from "./shell.ts";

const FORECASTS = 50;
const CUSTOMERS = 100;
const TOP_CUSTOMERS = 10;
/** Days of sales drawn before the forecast starts. */
const HISTORY_DAYS = 42;
const uuid = z.uuid();

const DONE = {
  seen: "Marked seen.",
  done: "Marked done.",
  dismissed: "Dismissed; it will not come back for a while.",
  refreshed: "Forecasts, customers and recommendations recomputed.",
} as const;

function recommendationCard(r: RecommendationView): Html {
  const next = (
    r.status === "new" ? (["seen", "done", "dismissed"] as const) : (["done", "dismissed"] as const)
  ).map(
    (s) => html`<form method="post" action="/console/seller/analytics/recommendations/${r.id}/${s}">
  <button type="submit"${s === "dismissed" ? html` class="secondary"` : ""}>${
    s === "seen" ? "Mark seen" : s === "done" ? "Done" : "Dismiss"
  }<span class="sr-only">: ${r.title}</span></button>
</form>`,
  );
  return html`<article class="card" id="rec-${r.id}">
  <p><span class="badge ${r.urgency === "high" ? "rejected" : r.urgency === "medium" ? "pending" : ""}">${r.urgency}</span>
  <span class="badge">${r.kind.replaceAll("_", " ")}</span> <span class="muted">${r.status}</span></p>
  <h3>${r.title}</h3>
  <p>${r.detail}</p>
  <div class="actions">${next}</div>
</article>`;
}

/** Sold per day up to yesterday, then the forecast's mean with its 80% and 95% bands. */
async function forecastChart(
  c: Parameters<typeof serviceContext>[0],
  userId: string,
  shopId: string,
  f: ForecastView,
): Promise<Html> {
  const start = f.points[0]?.day ?? today();
  const sold = await getSeries(serviceContext(c), userId, {
    shopId,
    productId: f.productId,
    metric: "units",
    from: addDays(start, -HISTORY_DAYS),
    to: addDays(start, -1),
  });
  const past = sold.points.map((p) => p.period);
  const future = f.points.map((p) => p.day);
  const none = (n: number) => Array.from({ length: n }, () => null);
  const ahead = (pick: (p: ForecastView["points"][number]) => number) => [
    ...none(past.length),
    ...f.points.map((p) => Math.round(pick(p) * 100) / 100),
  ];
  const chart = chartFigure(
    "chart-forecast",
    `${f.title}: units sold per day, then the forecast with 80% and 95% intervals`,
    {
      xs: [...past, ...future].map(dayX),
      yLabel: "Units",
      series: [
        { label: "Sold", values: [...sold.points.map((p) => p.value), ...none(future.length)] },
        { label: "Forecast", values: ahead((p) => p.mean) },
        { label: "95% high", values: ahead((p) => p.hi95), band: true },
        { label: "95% low", values: ahead((p) => p.lo95), band: true },
        { label: "80% high", values: ahead((p) => p.hi80), band: true },
        { label: "80% low", values: ahead((p) => p.lo80), band: true },
      ],
      bands: [
        { upper: 2, lower: 3, fill: "rgba(10, 88, 202, 0.12)" },
        { upper: 4, lower: 5, fill: "rgba(10, 88, 202, 0.22)" },
      ],
    },
  );
  const week = f.points.slice(0, 7);
  const sum = (pick: (p: ForecastView["points"][number]) => number) =>
    Math.round(week.reduce((s, p) => s + pick(p), 0));
  return html`${chart}
<p>Next 7 days: about ${sum((p) => p.mean)} units (80%: ${sum((p) => p.lo80)}–${sum((p) => p.hi80)}), by ${f.method ?? "—"}.</p>`;
}

function forecastTable(
  forecasts: ForecastView[],
  hrefOf: (productId: string) => string,
  shown: string | undefined,
): Html {
  return html`<div class="table-wrap"><table class="grid-table" id="forecasts">
<caption class="sr-only">Forecasts per product</caption>
<thead><tr><th scope="col">Product</th><th scope="col">Forecast</th><th scope="col" class="num">Sold, last 28 days</th><th scope="col" class="num">Expected, next 28 days</th></tr></thead>
<tbody>${forecasts.map(
    (f) => html`<tr><th scope="row">${
      f.state === "ok" && f.productId !== shown
        ? html`<a href="${hrefOf(f.productId)}">${f.title}</a>`
        : f.title
    }<span class="muted block">${f.sku}</span></th>
<td>${f.state === "ok" ? f.method : `needs ${f.minHistoryDays} days of history (has ${f.historyDays})`}</td>
<td class="num">${f.unitsLast28}</td>
<td class="num">${f.state === "ok" ? Math.round(f.points.reduce((s, p) => s + p.mean, 0)) : "—"}</td></tr>`,
  )}</tbody></table></div>`;
}

function reorderTable(items: ProductReorder[]): Html {
  const rows = items.flatMap((p) => p.locations.map((l) => ({ p, l })));
  if (rows.length === 0) return html`<p>No reorder suggestions yet.</p>`;
  return html`<div class="table-wrap"><table class="grid-table" id="reorder">
<caption class="sr-only">Reorder points and suggested quantities, soonest stock-out first</caption>
<thead><tr><th scope="col">Product</th><th scope="col">Location</th><th scope="col" class="num">Available</th><th scope="col" class="num">Reorder point</th><th scope="col" class="num">Order now</th><th scope="col">Stock-out</th></tr></thead>
<tbody>${rows.map(
    ({
      p,
      l,
    }) => html`<tr><th scope="row">${p.title}<span class="muted block">${p.sku}</span></th><td>${l.code}</td>
<td class="num">${l.available}</td><td class="num">${l.reorderPoint}</td>
<td class="num">${l.status === "reorder_now" ? html`<span class="badge pending">${l.suggestedQuantity}</span>` : "—"}</td>
<td>${l.stockoutDay ?? "not within a year"}</td></tr>`,
  )}</tbody></table></div>`;
}

/**
 * `/console/seller/analytics`: the shop's intelligence (owners and managers): the recommendation
 * feed (mark seen, done, dismiss), a product's demand forecast with its intervals, reorder
 * suggestions and customer segments. The intelligence services compute a shop on its first read
 * and then daily; "Recompute now" asks for it at once.
 */
export const sellerAnalyticsPages = new Hono<AppEnv>()
  .get("/seller/analytics", async (c) => {
    const scope = await sellerScope(c);
    const nav = sellerNav(scope, "/console/seller/analytics");
    const title = `Analytics${scope.shop ? ` · ${scope.shop.name}` : ""}`;
    if (!scope.shop) return page(c, { title, body: html`${nav}${NO_SHOP}` });
    if (!may(scope, "analytics.read")) {
      return page(c, { title, body: html`${nav}${notForRole(scope, "analytics")}` });
    }
    const ctx = serviceContext(c);
    const userId = scope.user.id;
    const shopId = scope.shop.id;
    // First alone: a shop never computed is computed by this read, once, before the others.
    const recs = await getRecommendations(ctx, userId, { shopId, limit: 50 });
    const [forecasts, reorder, customers] = await Promise.all([
      getForecasts(ctx, userId, { shopId, limit: FORECASTS }),
      getReorder(ctx, userId, { shopId }),
      getCustomers(ctx, userId, { shopId, limit: CUSTOMERS }),
    ]);
    const wanted = c.req.query("product");
    const shown =
      forecasts.items.find((f) => f.productId === wanted && f.state === "ok") ??
      forecasts.items.find((f) => f.state === "ok");
    const segments = SEGMENTS.map((s) => ({
      segment: s,
      count: customers.items.filter((x) => x.segment === s).length,
    })).filter((s) => s.count > 0);
    return page(c, {
      title,
      charts: shown !== undefined,
      body: html`${nav}${alert(flash(c, DONE), "ok")}
<form method="post" action="/console/seller/analytics/refresh" class="inline">
  <input type="hidden" name="shop" value="${shopId}">
  <span class="muted">Computed ${when(recs.computedAt)}.</span>
  <button type="submit" class="secondary">Recompute now</button>
</form>
<section aria-labelledby="h-recs"><h2 id="h-recs">Recommendations</h2>
${
  recs.items.length === 0
    ? html`<p>Nothing to act on right now.</p>`
    : html`<div class="stack" id="recommendations">${recs.items.map(recommendationCard)}</div>`
}</section>
<section aria-labelledby="h-forecast"><h2 id="h-forecast">Demand forecasts</h2>
${shown ? await forecastChart(c, userId, shopId, shown) : html`<p>No product has enough sales history for a forecast yet.</p>`}
${forecastTable(forecasts.items, (id) => shopHref(scope, "/console/seller/analytics", { product: id }), shown?.productId)}
</section>
<section aria-labelledby="h-reorder"><h2 id="h-reorder">Reorder suggestions</h2>
<p class="muted">Lead time ${reorder.defaults.leadTimeDays} days and service level ${reorder.defaults.serviceLevel} unless set per product.</p>
${reorderTable(reorder.items)}</section>
<section aria-labelledby="h-customers"><h2 id="h-customers">Customer segments</h2>
${
  customers.items.length === 0
    ? html`<p>No customers yet.</p>`
    : html`<ul class="grid" id="segments">${segments.map(
        (s) =>
          html`<li class="card"><span class="muted block">${s.segment.replaceAll("_", " ")}</span><strong class="price">${s.count}</strong></li>`,
      )}</ul>
<div class="table-wrap"><table class="grid-table" id="customers">
<caption>Top customers by spend</caption>
<thead><tr><th scope="col">Customer</th><th scope="col" class="num">Orders</th><th scope="col" class="num">Spend</th><th scope="col">Segment</th><th scope="col">Churn risk</th></tr></thead>
<tbody>${customers.items.slice(0, TOP_CUSTOMERS).map(
        (x) => html`<tr><th scope="row">${x.displayName}</th><td class="num">${x.orders}</td>
<td class="num">${money(x.spendMinor, x.currency)}</td><td>${x.segment.replaceAll("_", " ")}</td><td>${x.churnRisk}</td></tr>`,
      )}</tbody></table></div>`
}</section>
${shown ? chartScriptTag : ""}`,
    });
  })
  .post("/seller/analytics/refresh", async (c) => {
    const form = await c.req.parseBody();
    const scope = await sellerScope(c, typeof form.shop === "string" ? form.shop : "");
    if (!scope.shop) throw new NotFound("shop");
    await getRecommendations(serviceContext(c), scope.user.id, {
      shopId: scope.shop.id,
      refresh: "true",
      limit: 1,
    });
    return c.redirect(shopHref(scope, "/console/seller/analytics", { done: "refreshed" }), 303);
  })
  .post("/seller/analytics/recommendations/:id/:status{seen|done|dismissed}", async (c) => {
    const user = viewerOf(c);
    const id = c.req.param("id");
    if (!user || !uuid.safeParse(id).success) throw new NotFound("recommendation", id);
    const status = z.enum(["seen", "done", "dismissed"]).parse(c.req.param("status"));
    const rec = await setRecommendationStatus(serviceContext(c), user.id, id, { status });
    return c.redirect(
      `/console/seller/analytics?${new URLSearchParams({ shop: rec.shopId, done: status })}`,
      303,
    );
  });
