import type { Context } from "hono";
import { Hono } from "hono";
import { html } from "hono/html";
import { z } from "zod";
import type { AppEnv } from "../../http/context.ts";
import { serviceContext } from "../../http/service-context.ts";
import { parseOr422 } from "../../lib/input.ts";
import { NotFound } from "../../services/errors.ts";
import { getShop } from "../../services/shops/queries.ts";
import {
  adminShopQuery,
  listShopsForReview,
  type ReviewAction,
  reviewReasonInput,
  reviewShop,
} from "../../services/shops/review.ts";
import type { ShopManagedView } from "../../services/shops/views.ts";
import { refusalOf } from "../errors.ts";
import { alert, type FieldMessages, type Html, isPartial, page } from "../layout.ts";
import { requireViewer } from "../session.ts";

const STATUSES = ["pending", "approved", "rejected", "suspended"] as const;
const QUEUE_SIZE = 50;

interface CardState {
  message?: string | null;
  errors?: FieldMessages;
  reason?: string;
}

const dateOf = (iso: string | null) => (iso ? iso.slice(0, 10) : "not yet");

/** One shop in the queue: what an admin checks, and the decisions its status allows. */
function shopCard(s: ShopManagedView, state: CardState = {}): Html {
  const id = `shop-${s.id}`;
  const base = `/console/admin/shops/${s.id}`;
  const reasonError = state.errors?.reason;
  return html`<article class="card" id="${id}" aria-labelledby="${id}-name">
  <h2 id="${id}-name">${s.name} <span class="badge ${s.status}">${s.status}</span></h2>
  <dl class="facts">
    <dt>Slug</dt><dd>${s.slug}</dd>
    <dt>Country</dt><dd>${s.country} · ${s.currency}</dd>
    <dt>Contact</dt><dd>${s.contactEmail} · ${s.contactPhone}</dd>
    <dt>Email verified</dt><dd>${dateOf(s.emailVerifiedAt)}</dd>
    <dt>Opened</dt><dd>${dateOf(s.createdAt)}</dd>
    ${s.statusReason ? html`<dt>Reason</dt><dd>${s.statusReason}</dd>` : ""}
  </dl>
  ${alert(state.message, state.errors ? "error" : "ok")}
  <div class="actions">
    ${
      s.status !== "approved"
        ? html`<form method="post" action="${base}/approve" hx-post="${base}/approve" hx-target="#${id}" hx-swap="outerHTML" class="inline">
      <button type="submit">Approve<span class="sr-only"> ${s.name}</span></button>
    </form>`
        : ""
    }
    ${
      s.status === "pending"
        ? html`<div x-data="disclosure" data-open="${reasonError ? "true" : "false"}">
      <button type="button" class="secondary" x-on:click="toggle" x-bind:aria-expanded="expanded" aria-controls="${id}-reject">Reject…<span class="sr-only"> ${s.name}</span></button>
      <form method="post" action="${base}/reject" hx-post="${base}/reject" hx-target="#${id}" hx-swap="outerHTML" id="${id}-reject" class="reject" x-show="open">
        <label for="${id}-reason">Reason the owner is told</label>
        <textarea id="${id}-reason" name="reason" rows="2" required minlength="3" maxlength="1000"${
          reasonError ? html` aria-invalid="true" aria-describedby="${id}-reason-error"` : ""
        }>${state.reason ?? ""}</textarea>
        ${reasonError ? html`<p class="error" id="${id}-reason-error">${reasonError}</p>` : ""}
        <button type="submit" class="danger">Reject<span class="sr-only"> ${s.name}</span></button>
      </form>
    </div>`
        : ""
    }
  </div>
</article>`;
}

const idParam = z.uuid();

/** An admin's decision through the review service; htmx gets the card back, a plain post a reload. */
async function decide(c: Context<AppEnv>, action: ReviewAction): Promise<Response> {
  const id = c.req.param("id") ?? "";
  if (!idParam.safeParse(id).success) throw new NotFound("shop", id);
  const ctx = serviceContext(c);
  const form = action === "approve" ? {} : await c.req.parseBody();
  const typedReason = typeof form.reason === "string" ? form.reason : "";
  try {
    const reason = action === "approve" ? null : parseOr422(reviewReasonInput, form).reason;
    // The service's dependencies (queue, logger, cache) are the context's own.
    const shop = await reviewShop(ctx, id, action, reason);
    if (!isPartial(c)) return c.redirect("/console/admin/shops", 303);
    return c.html(shopCard(shop, { message: `${shop.name} is now ${shop.status}.` }));
  } catch (err) {
    if (!(err instanceof Error) || !isPartial(c)) throw err;
    const r = await refusalOf(err, c);
    if (r.status !== 409 && r.status !== 422) throw err;
    // The card as it stands, with the refusal on it (an admin always gets the managed view).
    const shop = await getShop(ctx, { id: ctx.actor.id ?? "", role: "admin" }, id);
    if (!("status" in shop)) throw err;
    return c.html(
      shopCard(shop, { message: r.detail, errors: r.fields, reason: typedReason }),
      r.status,
    );
  }
}

/** Admins: the shop verification queue, approve, reject with a reason (the review service). */
export const adminShopPages = new Hono<AppEnv>()
  .use("/admin/*", requireViewer("admin"))
  .get("/admin/shops", async (c) => {
    const raw = c.req.query("status") || "pending";
    const { status } = parseOr422(adminShopQuery, { status: raw }, "query");
    const shops = await listShopsForReview(serviceContext(c), { status, limit: QUEUE_SIZE });
    return page(c, {
      title: "Shop verification",
      body: html`<nav aria-label="Shop status" class="tabs"><ul>${STATUSES.map(
        (s) =>
          html`<li><a href="/console/admin/shops?status=${s}"${s === status ? html` aria-current="page"` : ""}>${s}</a></li>`,
      )}</ul></nav>
${shops.items.length === 0 ? html`<p>No ${status} shops.</p>` : ""}
<div class="stack">${shops.items.map((s) => shopCard(s))}</div>`,
    });
  })
  .post("/admin/shops/:id/approve", (c) => decide(c, "approve"))
  .post("/admin/shops/:id/reject", (c) => decide(c, "reject"));
