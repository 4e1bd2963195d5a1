import { Hono } from "hono";
import { html, raw } from "hono/html";
import { z } from "zod";
import type { AppEnv } from "../../http/context.ts";
import { serviceContext } from "../../http/service-context.ts";
import { getShopProduct } from "../../services/catalog/products.ts";
import { NotFound } from "../../services/errors.ts";
import { listMovements } from "../../services/inventory/movements.ts";
import { getProductStock } from "../../services/inventory/stock.ts";
import { page } from "../layout.ts";
import { requireViewer, viewerOf } from "../session.ts";

const HISTORY_MOVEMENTS = 100;

/** JSON for a `<script type="application/json">`: nothing in it can close the element. */
function jsonForScript(value: unknown): string {
  return JSON.stringify(value).replaceAll("<", "\\u003c");
}

/**
 * One product's on hand over time at each location, from the movement mirror (the same list the
 * API's movement history reads, so it may trail the object by a moment): a uPlot chart drawn by
 * public/console/console.js, and the same numbers as a table for keyboards and screen readers.
 */
export const stockHistoryPages = new Hono<AppEnv>()
  .use("/seller/*", requireViewer("seller"))
  .get("/seller/products/:id/stock-history", async (c) => {
    const user = viewerOf(c);
    const id = c.req.param("id");
    if (!user || !z.uuid().safeParse(id).success) throw new NotFound("product", id);
    const ctx = serviceContext(c);
    const [product, stock, history] = await Promise.all([
      getShopProduct(ctx, user.id, id),
      getProductStock(ctx, user.id, id),
      listMovements(ctx, user.id, { productId: id, limit: HISTORY_MOVEMENTS }),
    ]);
    const movements = [...history.items].reverse();
    const locations = stock.locations.filter((l) =>
      movements.some((m) => m.locationId === l.locationId),
    );
    // x: seconds; one y series per location, carrying its last level forward.
    const xs = movements.map((m) => Math.floor(Date.parse(m.createdAt) / 1000));
    const level = new Map<string, number | null>();
    const series = locations.map((l) => ({
      label: l.code ?? "deleted location",
      values: [] as Array<number | null>,
    }));
    for (const m of movements) {
      level.set(m.locationId, m.onHandAfter);
      locations.forEach((l, i) => {
        series[i]?.values.push(level.get(l.locationId) ?? null);
      });
    }
    const chart = { xs, series };
    return page(c, {
      title: `Stock history · ${product.title}`,
      charts: movements.length > 0,
      body: html`<p><a href="/console/seller/inventory?shop=${stock.shopId}">Back to the inventory</a></p>
${
  movements.length === 0
    ? html`<p>No movements recorded yet${stock.pendingMirror ? " (some are on their way)" : ""}.</p>`
    : html`<figure class="card chart-card">
  <figcaption>On hand per location, last ${movements.length} movements</figcaption>
  <div class="chart" data-chart="stock-history" role="img" aria-label="On hand over time per location; the table below has the same numbers"></div>
  <script type="application/json" id="stock-history-data">${raw(jsonForScript(chart))}</script>
</figure>
<div class="table-wrap"><table class="grid-table" id="history">
<caption class="sr-only">Movements, oldest first</caption>
<thead><tr><th scope="col">When</th><th scope="col">Location</th><th scope="col">Kind</th><th scope="col" class="num">Change</th><th scope="col" class="num">On hand after</th></tr></thead>
<tbody>${movements.map(
        (
          m,
        ) => html`<tr><th scope="row"><time datetime="${m.createdAt}">${m.createdAt.slice(0, 19).replace("T", " ")}</time></th>
<td>${stock.locations.find((l) => l.locationId === m.locationId)?.code ?? "—"}</td><td>${m.kind}</td>
<td class="num">${m.deltaOnHand > 0 ? `+${m.deltaOnHand}` : m.deltaOnHand}</td><td class="num">${m.onHandAfter}</td></tr>`,
      )}</tbody></table></div>`
}`,
    });
  });
