import { Hono } from "hono";
import { html } from "hono/html";
import type { AppEnv } from "../../../http/context.ts";
import { serviceContext } from "../../../http/service-context.ts";
import { getKpis, type Kpis, type SalesFigures } from "../../../services/analytics/kpis.ts";
import { addDays } from "../../../services/analytics/period.ts";
import { getSeries, type Series } from "../../../services/analytics/series.ts";
import {
  alert,
  type FieldMessages,
  field,
  type Html,
  minorPerMajor,
  money,
  page,
} from "../../layout.ts";
import { chartFigure, chartScriptTag, dayX } from "./charts.ts";
import {
  formRefusal,
  may,
  NO_SHOP,
  notForRole,
  percent,
  type SellerScope,
  sellerNav,
  sellerScope,
  today,
  when,
} from "./shell.ts";

/** The default period: the last 30 days, today included. */
const DEFAULT_DAYS = 30;

interface Kpi {
  label: string;
  key: keyof SalesFigures;
  money?: boolean;
}

const KPIS: Kpi[] = [
  { label: "Revenue", key: "grossMinor", money: true },
  { label: "Net", key: "netMinor", money: true },
  { label: "Orders", key: "orders" },
  { label: "Units", key: "units" },
  { label: "Average order", key: "averageOrderValueMinor", money: true },
  { label: "Refunds", key: "refundsMinor", money: true },
];

function figure(k: Kpi, value: number | null, currency: string): string {
  if (value === null) return "—";
  return k.money ? money(value, currency) : value.toLocaleString("en");
}

function kpiCards(k: Kpis): Html {
  return html`<ul class="grid" id="kpis" aria-label="Key figures">${KPIS.map(
    (kpi) => html`<li class="card" data-kpi="${kpi.key}">
  <span class="muted block">${kpi.label}</span>
  <strong class="price" data-value>${figure(kpi, k.current[kpi.key], k.currency)}</strong>
  <span class="block">${percent(k.change[kpi.key])} <span class="muted">vs ${figure(kpi, k.previous[kpi.key], k.currency)}</span></span>
</li>`,
  )}</ul>`;
}

function inventoryFacts(k: Kpis): Html {
  const i = k.inventory;
  return html`<section class="card" aria-labelledby="h-inventory">
  <h2 id="h-inventory">Inventory health</h2>
  <dl class="facts">
    <dt>Products</dt><dd>${i.skus}</dd>
    <dt>Units on hand</dt><dd>${i.units} (${i.availableUnits} available)</dd>
    <dt>Stock value</dt><dd>${money(i.stockValueMinor, k.currency)}</dd>
    <dt>Low stock</dt><dd>${i.lowStock}</dd>
    <dt>Out of stock</dt><dd>${i.outOfStock}</dd>
    <dt>Days of cover</dt><dd>${i.daysOfCover ?? "—"}</dd>
    <dt>Sell-through</dt><dd>${k.sellThrough === null ? "—" : percent(k.sellThrough).replace("+", "")}</dd>
  </dl>
</section>`;
}

function topProducts(k: Kpis): Html {
  if (k.topProducts.length === 0) return html``;
  return html`<div class="table-wrap"><table class="grid-table" id="top-products">
<caption>Best sellers in the period</caption>
<thead><tr><th scope="col">Product</th><th scope="col" class="num">Units</th><th scope="col" class="num">Orders</th><th scope="col" class="num">Revenue</th></tr></thead>
<tbody>${k.topProducts.map(
    (p) => html`<tr><th scope="row">${p.title}<span class="muted block">${p.sku}</span></th>
<td class="num">${p.units}</td><td class="num">${p.orders}</td><td class="num">${money(p.grossMinor, k.currency)}</td></tr>`,
  )}</tbody></table></div>`;
}

/** Revenue (major units), orders and units per day: three charts and one table of the same. */
function charts(revenue: Series, orders: Series, units: Series): Html {
  const xs = revenue.points.map((p) => dayX(p.period));
  const unit = minorPerMajor(revenue.currency);
  const chart = (id: string, caption: string, label: string, s: Series, scale = 1) =>
    chartFigure(id, caption, {
      xs,
      yLabel: label,
      series: [{ label, values: s.points.map((p) => p.value / scale) }],
    });
  return html`<div class="stack">
${chart("chart-revenue", `Revenue per day (${revenue.currency})`, revenue.currency, revenue, unit)}
${chart("chart-orders", "Orders per day", "Orders", orders)}
${chart("chart-units", "Units sold per day", "Units", units)}
</div>
<details><summary>The charts' numbers</summary>
<div class="table-wrap"><table class="grid-table" id="series">
<caption class="sr-only">Revenue, orders and units per day</caption>
<thead><tr><th scope="col">Day</th><th scope="col" class="num">Revenue</th><th scope="col" class="num">Orders</th><th scope="col" class="num">Units</th></tr></thead>
<tbody>${revenue.points.map(
    (
      p,
      n,
    ) => html`<tr><th scope="row">${p.period}</th><td class="num">${money(p.value, revenue.currency)}</td>
<td class="num">${orders.points[n]?.value ?? 0}</td><td class="num">${units.points[n]?.value ?? 0}</td></tr>`,
  )}</tbody></table></div>
</details>`;
}

function periodForm(scope: SellerScope, from: string, to: string, errors: FieldMessages): Html {
  return html`<form method="get" action="/console/seller" class="filters">
  <input type="hidden" name="shop" value="${scope.shop?.id ?? ""}">
  ${field({ name: "from", label: "From", type: "date", value: from, errors })}
  ${field({ name: "to", label: "To", type: "date", value: to, errors })}
  <div class="field"><label><input type="checkbox" name="refresh" value="true"> Bring figures up to date</label></div>
  <button type="submit">Show</button>
</form>`;
}

/**
 * `/console/seller`: the shop's KPIs for a period against the period before (the analytics
 * service, owners and managers), revenue, orders and units per day as uPlot charts, inventory
 * health and best sellers. Staff see the sections their role has instead of the figures.
 */
export const dashboardPages = new Hono<AppEnv>().get("/seller", async (c) => {
  const scope = await sellerScope(c);
  const nav = sellerNav(scope, "/console/seller");
  const title = `Dashboard${scope.shop ? ` · ${scope.shop.name}` : ""}`;
  if (!scope.shop) return page(c, { title, body: html`${nav}${NO_SHOP}` });
  if (!may(scope, "analytics.read")) {
    return page(c, { title, body: html`${nav}${notForRole(scope, "sales figures")}` });
  }
  const to = c.req.query("to") || today();
  const from = c.req.query("from") || addDays(to, -(DEFAULT_DAYS - 1));
  const refresh = c.req.query("refresh") === "true" ? "true" : "false";
  const ctx = serviceContext(c);
  const user = scope.user.id;
  const shopId = scope.shop.id;
  try {
    // The KPIs first: with `refresh` they rebuild the days the series then read.
    const kpis = await getKpis(ctx, user, { shopId, from, to, refresh, top: 5 });
    const series = (metric: "revenue" | "orders" | "units") =>
      getSeries(ctx, user, { shopId, metric, from, to, interval: "day" });
    const [revenue, orders, units] = await Promise.all([
      series("revenue"),
      series("orders"),
      series("units"),
    ]);
    return page(c, {
      title,
      charts: true,
      body: html`${nav}${periodForm(scope, from, to, {})}
<p class="muted">${kpis.period.from} to ${kpis.period.to}, compared with ${kpis.comparePeriod.from} to ${kpis.comparePeriod.to}.${kpis.asOf ? ` Figures as of ${when(kpis.asOf)}.` : ""}</p>
${kpiCards(kpis)}
<h2>Sales per day</h2>
${charts(revenue, orders, units)}
<div class="stack">${inventoryFacts(kpis)}${topProducts(kpis)}</div>
${chartScriptTag}`,
    });
  } catch (err) {
    const { errors, status } = await formRefusal(c, err, [422]);
    return page(c, {
      title,
      status,
      body: html`${nav}${periodForm(scope, from, to, errors)}${alert(errors.form)}`,
    });
  }
});
