import { Hono } from "hono";
import { html } from "hono/html";
import { z } from "zod";
import { orderStatus } from "../../../db/schema/orders.ts";
import { UPLOAD_KINDS, UPLOAD_STATUSES } from "../../../db/schema/uploads.ts";
import type { AppEnv } from "../../../http/context.ts";
import { text } from "../../../lib/text.ts";
import { type AuditView, listAudit } from "../../../services/admin/audit.ts";
import { JOB_OUTCOMES, type JobRunView, listJobRuns } from "../../../services/admin/operations.ts";
import { listOrdersForAdmin } from "../../../services/orders/queries.ts";
import type { OrderView } from "../../../services/orders/views.ts";
import {
  adminUploadListQuery,
  listAllUploads,
  type UploadSummary,
} from "../../../services/uploads/uploads.ts";
import { type Html, money } from "../../layout.ts";
import {
  DAY_FILTERS,
  DAYS,
  dayEnd,
  dayStart,
  daysInOrder,
  filteredList,
  json,
  label,
  queryOf,
  when,
} from "./ui.ts";

/** A table of a list, its rows newest first. */
function table(caption: string, heads: string[], rows: Html[]): Html {
  return html`<div class="table-wrap"><table class="grid-table">
<caption class="sr-only">${caption}</caption>
<thead><tr>${heads.map((h) => html`<th scope="col">${h}</th>`)}</tr></thead>
<tbody>${rows}</tbody></table></div>`;
}

function jobRunRow(r: JobRunView): Html {
  return html`<tr>
  <th scope="row">${r.job}<span class="muted block">${r.cron ?? "by hand"}</span></th>
  <td>${when(r.startedAt)}</td>
  <td>${when(r.finishedAt)}</td>
  <td><span class="badge ${r.outcome}">${r.outcome}</span></td>
  <td><details><summary>Report</summary>${json(r.detail)}</details></td>
</tr>`;
}

function orderRow(o: OrderView): Html {
  return html`<tr>
  <th scope="row"><a href="/console/admin/audit?${queryOf({ entityType: "order", entityId: o.id })}">${when(o.createdAt)}</a></th>
  <td><a href="/console/admin/orders?${queryOf({ shopId: o.shop.id })}">${o.shop.name}</a></td>
  <td><a href="/console/admin/users/${o.buyerId}">buyer</a></td>
  <td><span class="badge ${o.status}">${label(o.status)}</span></td>
  <td class="num">${money(o.totalMinor, o.currency)}</td>
</tr>`;
}

function uploadRow(u: UploadSummary): Html {
  return html`<tr>
  <th scope="row">${when(u.createdAt)}</th>
  <td><a href="/console/admin/orders?${queryOf({ shopId: u.shopId })}">${u.shopId}</a></td>
  <td>${u.kind}</td>
  <td><span class="badge ${u.status}">${label(u.status)}</span></td>
  <td class="num">${u.succeededRows} / ${u.failedRows} / ${u.totalRows}</td>
  <td class="num">${u.attempts}</td>
</tr>`;
}

function auditRow(a: AuditView): Html {
  return html`<tr>
  <th scope="row">${when(a.at)}</th>
  <td>${a.actorId ? html`<a href="/console/admin/users/${a.actorId}">${a.actorType}</a>` : a.actorType}</td>
  <td>${a.action}</td>
  <td>${a.entityType}<span class="muted block">${a.entityId}</span></td>
  <td><details><summary>Change</summary>${json({ old: a.oldValue, new: a.newValue })}</details></td>
</tr>`;
}

/** Failed uploads first among the statuses: what an admin comes to this list for. */
export const FAILED_UPLOADS = "failed,partially_failed";

/** Job runs, every order, every shop's uploads, the audit log: what happened, read-only, filtered and cursor-paged. */
export const adminRecordPages = new Hono<AppEnv>()
  .get("/admin/job-runs", (c) =>
    filteredList(c, {
      title: "Job runs",
      path: "/console/admin/job-runs",
      filters: [
        { name: "job", label: "Job" },
        { name: "outcome", label: "Outcome", options: JOB_OUTCOMES },
        { name: "from", label: "Since", type: "date" },
      ],
      schema: z.object({
        job: text().trim().min(1).max(64).optional(),
        outcome: z.enum(JOB_OUTCOMES).optional(),
        from: z.iso.date().optional(),
      }),
      load: (ctx, { from, ...q }, p) => listJobRuns(ctx, { ...q, ...p, since: dayStart(from) }),
      empty: "No job runs match.",
      render: (items) =>
        table(
          "Cron job runs, newest first",
          ["Job", "Started", "Finished", "Outcome", "Report"],
          items.map(jobRunRow),
        ),
    }),
  )
  .get("/admin/orders", (c) =>
    filteredList(c, {
      title: "Orders",
      path: "/console/admin/orders",
      filters: [
        { name: "shopId", label: "Shop id" },
        { name: "buyerId", label: "Buyer id" },
        { name: "status", label: "Status", options: orderStatus.enumValues },
        ...DAY_FILTERS,
      ],
      schema: z
        .object({
          shopId: z.uuid().optional(),
          buyerId: z.uuid().optional(),
          status: z.enum(orderStatus.enumValues).optional(),
          ...DAYS,
        })
        .refine(...daysInOrder),
      load: ({ db }, { from, to, ...q }, p) =>
        listOrdersForAdmin(db, { ...q, ...p, from: dayStart(from), to: dayEnd(to) }),
      empty: "No orders match.",
      render: (items) =>
        table(
          "Orders, newest first",
          ["Placed", "Shop", "Buyer", "Status", "Total"],
          items.map(orderRow),
        ),
    }),
  )
  .get("/admin/uploads", (c) =>
    filteredList(c, {
      title: "Uploads",
      path: "/console/admin/uploads",
      filters: [
        { name: "status", label: "Status", options: [FAILED_UPLOADS, ...UPLOAD_STATUSES] },
        { name: "kind", label: "Kind", options: UPLOAD_KINDS },
        { name: "shopId", label: "Shop id" },
      ],
      // The API's own query, so a status list it refuses is refused here by the same message.
      schema: adminUploadListQuery.pick({ status: true, kind: true, shopId: true }),
      load: (ctx, q, p) => listAllUploads(ctx, { ...q, ...p }),
      empty: "No uploads match.",
      render: (items) =>
        table(
          "CSV uploads of every shop, newest first",
          ["Uploaded", "Shop", "Kind", "Status", "Rows ok / failed / all", "Attempts"],
          items.map(uploadRow),
        ),
    }),
  )
  .get("/admin/audit", (c) =>
    filteredList(c, {
      title: "Audit log",
      path: "/console/admin/audit",
      filters: [
        { name: "action", label: "Action (or prefix.)" },
        { name: "entityType", label: "Entity type" },
        { name: "entityId", label: "Entity id" },
        { name: "actorId", label: "Actor id" },
        ...DAY_FILTERS,
      ],
      schema: z
        .object({
          actorId: z.uuid().optional(),
          entityType: text().min(1).max(64).optional(),
          entityId: text().min(1).max(200).optional(),
          action: text().min(1).max(128).optional(),
          ...DAYS,
        })
        .refine(...daysInOrder),
      load: (ctx, { from, to, ...q }, p) =>
        listAudit(ctx, { ...q, ...p, from: dayStart(from), to: dayEnd(to) }),
      empty: "No audit rows match.",
      render: (items) =>
        table(
          "Audit rows, newest first",
          ["When", "Actor", "Action", "Entity", "Change"],
          items.map(auditRow),
        ),
    }),
  );
