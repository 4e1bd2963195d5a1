import { Hono } from "hono";
import { html } from "hono/html";
import { z } from "zod";
import type { AppEnv } from "../../http/context.ts";
import { serviceContext } from "../../http/service-context.ts";
import { parseOr422 } from "../../lib/input.ts";
import { text } from "../../lib/text.ts";
import { cachedProduct, cachedProductList, PRODUCT_SORTS } from "../../services/catalog/search.ts";
import type { ProductSummary } from "../../services/catalog/views.ts";
import { NotFound } from "../../services/errors.ts";
import { listVisibleShops } from "../../services/shops/queries.ts";
import { refusalOf } from "../errors.ts";
import { alert, type FieldMessages, type Html, money, page } from "../layout.ts";
import { viewerOf } from "../session.ts";
import { AVAILABILITY_LABEL, availabilityByLocation, productActions } from "./buyer/product.ts";

/** The catalog's search as a form: the public list's own parameters (blank means unset). */
const productFilters = z.object({
  q: text().max(200).optional(),
  shop: text().max(100).optional(),
  sort: z.enum(PRODUCT_SORTS).optional(),
  cursor: z.string().max(512).optional(),
});
const shopFilters = z.object({
  q: text().trim().max(100).optional(),
  cursor: z.string().max(512).optional(),
});

/** A query string with blank values dropped, as a form sends every field. */
function filled(query: Record<string, string>): Record<string, string> {
  return Object.fromEntries(Object.entries(query).filter(([, v]) => v.trim() !== ""));
}

function nextLink(path: string, query: Record<string, string>, cursor: string | null): Html {
  if (!cursor) return html``;
  const params = new URLSearchParams({ ...query, cursor });
  return html`<p><a class="button" href="${path}?${params.toString()}">Next page</a></p>`;
}

function productCard(p: ProductSummary): Html {
  return html`<li class="card product">
  <h2><a href="/console/products/${p.id}">${p.title}</a></h2>
  <p class="price">${money(p.priceMinor, p.currency)}${
    p.listingType === "auction" ? html` <span class="badge">Auction</span>` : ""
  }</p>
  <p class="muted">${p.shop.name} · ${p.shop.country}</p>
</li>`;
}

function searchForm(values: Record<string, string>, errors: FieldMessages): Html {
  const sort = values.sort ?? "";
  return html`<form method="get" action="/console/products" class="filters" role="search">
  <div class="field">
    <label for="f-q">Search</label>
    <input id="f-q" name="q" type="search" value="${values.q ?? ""}"${
      errors.q ? html` aria-invalid="true" aria-describedby="f-q-error"` : ""
    }>
    ${errors.q ? html`<p class="error" id="f-q-error">${errors.q}</p>` : ""}
  </div>
  <div class="field">
    <label for="f-shop">Shop (slug)</label>
    <input id="f-shop" name="shop" value="${values.shop ?? ""}">
  </div>
  <div class="field">
    <label for="f-sort">Sort</label>
    <select id="f-sort" name="sort"${errors.sort ? html` aria-invalid="true" aria-describedby="f-sort-error"` : ""}>
      <option value=""${sort === "" ? html` selected` : ""}>Default</option>
      ${PRODUCT_SORTS.map((s) => html`<option value="${s}"${sort === s ? html` selected` : ""}>${s.replace("_", " ")}</option>`)}
    </select>
    ${errors.sort ? html`<p class="error" id="f-sort-error">${errors.sort}</p>` : ""}
  </div>
  <button type="submit">Search</button>
</form>`;
}

/** Buyers' pages: verified shops, their products with search, one product. Anyone may look. */
export const browsePages = new Hono<AppEnv>()
  .get("/products", async (c) => {
    const values = filled(c.req.query());
    try {
      const q = parseOr422(productFilters, values, "query");
      const { value } = await cachedProductList(serviceContext(c), { ...q, limit: 24 });
      const { cursor: _, ...kept } = values;
      return page(c, {
        title: "Browse products",
        body: html`${searchForm(values, {})}
${value.items.length === 0 ? html`<p>No products match.</p>` : html`<ul class="grid">${value.items.map(productCard)}</ul>`}
${nextLink("/console/products", kept, value.nextCursor)}`,
      });
    } catch (err) {
      if (!(err instanceof Error)) throw err;
      const r = await refusalOf(err, c);
      if (r.status !== 422) throw err;
      return page(c, {
        title: "Browse products",
        status: 422,
        body: html`${alert("Check the search below.")}${searchForm(values, r.fields)}`,
      });
    }
  })
  .get("/products/:id", async (c) => {
    const id = c.req.param("id");
    if (!z.uuid().safeParse(id).success) throw new NotFound("product", id);
    const { value: p } = await cachedProduct(serviceContext(c), id);
    const a = p.availability;
    return page(c, {
      title: p.title,
      body: html`<article class="card">
  <p class="price">${money(p.priceMinor, p.currency)}</p>
  <p><span class="badge ${a.status}">${AVAILABILITY_LABEL[a.status]}</span>${
    a.quantity !== null ? html` <span class="muted">${a.quantity} available</span>` : ""
  }</p>
  <p>Sold by <a href="/console/products?shop=${encodeURIComponent(p.shop.slug)}">${p.shop.name}</a> (${p.shop.country})</p>
  ${p.description ? html`<p>${p.description}</p>` : ""}
  ${
    Object.keys(p.attributes).length
      ? html`<dl class="attributes">${Object.entries(p.attributes).map(
          ([k, v]) => html`<dt>${k}</dt><dd>${String(v)}</dd>`,
        )}</dl>`
      : ""
  }
  ${productActions(p, viewerOf(c) !== undefined)}
</article>
${availabilityByLocation(p)}`,
    });
  })
  .get("/shops", async (c) => {
    const values = filled(c.req.query());
    const q = parseOr422(shopFilters, values, "query");
    const shops = await listVisibleShops(serviceContext(c), { ...q, limit: 24 });
    const { cursor: _, ...kept } = values;
    return page(c, {
      title: "Verified shops",
      body: html`<form method="get" action="/console/shops" class="filters" role="search">
  <div class="field"><label for="f-shop-q">Name or slug</label>
  <input id="f-shop-q" name="q" type="search" value="${values.q ?? ""}"></div>
  <button type="submit">Search</button>
</form>
${shops.items.length === 0 ? html`<p>No shops match.</p>` : ""}
<ul class="grid">${shops.items.map(
        (s) => html`<li class="card">
  <h2><a href="/console/products?shop=${encodeURIComponent(s.slug)}">${s.name}</a></h2>
  <p class="muted">${s.country} · prices in ${s.currency}</p>
  ${s.description ? html`<p>${s.description}</p>` : ""}
</li>`,
      )}</ul>
${nextLink("/console/shops", kept, shops.nextCursor)}`,
    });
  });
