import { Hono } from "hono";
import { html } from "hono/html";
import type { AppEnv } from "../../../http/context.ts";
import { serviceContext } from "../../../http/service-context.ts";
import type { Page } from "../../../lib/pagination.ts";
import { listDeadLetters, listPaymentIssues } from "../../../services/admin/operations.ts";
import { listComplaintsForAdmin } from "../../../services/complaints/complaints.ts";
import { listShopsForReview } from "../../../services/shops/review.ts";
import { listAllUploads } from "../../../services/uploads/uploads.ts";
import type { Html } from "../../layout.ts";
import { FAILED_UPLOADS } from "./records.ts";
import { adminPage, queryOf } from "./ui.ts";

/**
 * How far the overview counts. There is no count query behind the admin lists, so a count is a
 * page of the same list the section shows, and more than a page reads "100+": an overview
 * needs "is there work", not an exact figure, and it reads no more than 100 rows per tile.
 */
const COUNT_CAP = 100;

/** A count from a page of a list: exact below the cap, "100+" when more remain. */
const countOf = (p: Page<unknown>): string => `${p.items.length}${p.nextCursor ? "+" : ""}`;

function tile(href: string, count: string, what: string, hint: string): Html {
  return html`<li class="card">
  <h2><a href="${href}"><span class="price">${count}</span> ${what}</a></h2>
  <p class="muted">${hint}</p>
</li>`;
}

/** `/console/admin`: what waits for an admin, each count linking to its list. */
export const adminHomePages = new Hono<AppEnv>().get("/admin", async (c) => {
  const ctx = serviceContext(c);
  const limit = COUNT_CAP;
  const [shops, complaints, issues, letters, uploads] = await Promise.all([
    listShopsForReview(ctx, { status: "pending", limit }),
    listComplaintsForAdmin(ctx, { status: "open", limit }),
    listPaymentIssues(ctx, { status: "open", limit }),
    listDeadLetters(ctx, { status: "open", limit }),
    listAllUploads(ctx, { status: FAILED_UPLOADS, limit }),
  ]);
  return adminPage(c, {
    title: "Admin",
    body: html`<ul class="grid" aria-label="Waiting for an admin">
  ${tile("/console/admin/shops?status=pending", countOf(shops), "shops awaiting review", "Approve or reject with a reason.")}
  ${tile("/console/admin/complaints?status=open", countOf(complaints), "open complaints", "Filed, not yet taken by an admin.")}
  ${tile("/console/admin/payment-issues", countOf(issues), "open payment issues", "Money that disagrees with the records.")}
  ${tile("/console/admin/dead-letters", countOf(letters), "dead letters", "Queue messages given up on, not replayed.")}
  ${tile(`/console/admin/uploads?${queryOf({ status: FAILED_UPLOADS })}`, countOf(uploads), "failed uploads", "CSV uploads with rows that failed.")}
</ul>
<h2>Look up</h2>
<ul>
  <li><a href="/console/admin/users">Users</a>: search, strikes, block</li>
  <li><a href="/console/admin/orders">Orders</a>: every order by shop, buyer, status, date</li>
  <li><a href="/console/admin/uploads">Uploads</a>: every shop's CSV uploads</li>
  <li><a href="/console/admin/job-runs">Job runs</a>: what the crons did</li>
  <li><a href="/console/admin/audit">Audit log</a>: who changed what</li>
</ul>`,
  });
});
