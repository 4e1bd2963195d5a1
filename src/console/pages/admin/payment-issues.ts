import type { Context } from "hono";
import { Hono } from "hono";
import { html } from "hono/html";
import type { ContentfulStatusCode } from "hono/utils/http-status";
import { z } from "zod";
import type { AppEnv } from "../../../http/context.ts";
import { serviceContext } from "../../../http/service-context.ts";
import { text } from "../../../lib/text.ts";
import {
  listPaymentIssues,
  type PaymentIssueView,
  resolvePaymentIssue,
} from "../../../services/admin/operations.ts";
import { alert, type Html } from "../../layout.ts";
import {
  doneNotice,
  type FormState,
  filteredList,
  json,
  label,
  queryOf,
  submit,
  textarea,
  when,
} from "./ui.ts";

const BASE = "/console/admin/payment-issues";
const STATUSES = ["open", "resolved"] as const;

/** One issue: what disagrees, where to look, and (while open) the note that resolves it. */
function issueCard(i: PaymentIssueView, state: FormState | undefined): Html {
  const id = `issue-${i.id}`;
  return html`<article class="card" id="${id}" aria-labelledby="${id}-title">
  <h2 id="${id}-title">${label(i.kind)} <span class="badge ${i.status}">${i.status}</span></h2>
  <dl class="facts">
    <dt>Raised</dt><dd>${when(i.createdAt)}</dd>
    ${i.checkoutId ? html`<dt>Checkout</dt><dd>${i.checkoutId}</dd>` : ""}
    ${
      i.orderId
        ? html`<dt>Order</dt><dd><a href="/console/admin/audit?${queryOf({ entityType: "order", entityId: i.orderId })}">${i.orderId}</a></dd>`
        : ""
    }
    ${i.paymentIntentId ? html`<dt>PaymentIntent</dt><dd>${i.paymentIntentId}</dd>` : ""}
    ${i.stripeEventId ? html`<dt>Stripe event</dt><dd>${i.stripeEventId}</dd>` : ""}
    ${
      i.resolvedAt
        ? html`<dt>Resolved</dt><dd>${when(i.resolvedAt)}: ${i.resolutionNote ?? ""}</dd>`
        : ""
    }
  </dl>
  <details><summary>Detail</summary>${json(i.detail)}</details>
  ${
    i.status === "open"
      ? html`<form method="post" action="${BASE}/${i.id}/resolve">
    ${textarea({
      id: `${id}-note`,
      name: "note",
      label: "What was done (on Stripe, with the buyer or the shop)",
      value: state?.values?.note,
      errors: state?.errors,
      required: true,
    })}
    <button type="submit">Resolve<span class="sr-only"> ${label(i.kind)} of ${when(i.createdAt)}</span></button>
  </form>`
      : ""
  }
</article>`;
}

/** The list; after a refused resolve, the refusal on top and its field error on the issue's card. */
function issueList(
  c: Context<AppEnv>,
  refused?: { id: string; state: FormState; status: ContentfulStatusCode },
): Promise<Response> {
  return filteredList(c, {
    title: "Payment issues",
    path: BASE,
    filters: [
      { name: "status", label: "Status", options: STATUSES },
      { name: "kind", label: "Kind" },
    ],
    schema: z.object({
      status: z.enum(STATUSES).optional(),
      kind: text().trim().min(1).max(64).optional(),
    }),
    defaults: { status: "open" },
    load: (ctx, q, p) => listPaymentIssues(ctx, { ...q, ...p }),
    empty: "No payment issues match.",
    notice: refused
      ? alert(refused.state.message)
      : doneNotice(c, { resolved: "The payment issue is resolved." }),
    ...(refused ? { status: refused.status } : {}),
    render: (items) =>
      html`<div class="stack">${items.map((i) =>
        issueCard(i, i.id === refused?.id ? refused.state : undefined),
      )}</div>`,
  });
}

/** Payment issues: money that disagrees with the records, resolved with a note (no money moves). */
export const adminPaymentIssuePages = new Hono<AppEnv>()
  .get("/admin/payment-issues", (c) => issueList(c))
  .post("/admin/payment-issues/:id/resolve", (c) =>
    submit(c, {
      what: "payment issue",
      act: (id, form) => resolvePaymentIssue(serviceContext(c), id, { note: form.note ?? "" }),
      done: () => `${BASE}?done=resolved`,
      refused: (id, state, status) => issueList(c, { id, state, status }),
    }),
  );
