import { Hono } from "hono";
import { html } from "hono/html";
import { z } from "zod";
import { complaintOutcome, complaintStatus } from "../../../db/schema/community.ts";
import type { AppEnv } from "../../../http/context.ts";
import { parseOr422 } from "../../../lib/input.ts";
import {
  assignComplaint,
  type ComplaintView,
  getComplaint,
  listComplaintsForAdmin,
  resolveComplaint,
  resolveComplaintInput,
} from "../../../services/complaints/complaints.ts";
import { alert, type Html } from "../../layout.ts";
import {
  type FormState,
  filteredList,
  label,
  queryOf,
  recordPages,
  select,
  textarea,
  when,
} from "./ui.ts";

const BASE = "/console/admin/complaints";
const DONE = { assigned: "You took this complaint.", resolved: "The complaint is resolved." };

/** Where a complaint's subject is looked at in the admin's pages. */
function subjectLink(s: ComplaintView["subject"]): Html {
  if (s.type === "user") return html`<a href="/console/admin/users/${s.id}">user ${s.id}</a>`;
  if (s.type === "shop") {
    return html`<a href="/console/admin/orders?${queryOf({ shopId: s.id })}">shop ${s.id}</a>`;
  }
  return html`<a href="/console/admin/audit?${queryOf({ entityType: "order", entityId: s.id })}">order ${s.id}</a>`;
}

function row(c: ComplaintView): Html {
  return html`<tr>
  <th scope="row"><a href="${BASE}/${c.id}">${when(c.createdAt)}</a></th>
  <td>${label(c.category)}</td>
  <td>${c.subject.type}</td>
  <td><span class="badge ${c.status}">${c.status}</span></td>
  <td>${c.outcome ? label(c.outcome) : "—"}</td>
</tr>`;
}

function detail(c: ComplaintView, me: string | undefined, state: FormState): Html {
  const errors = state.errors ?? {};
  const open = c.status !== "resolved";
  return html`<div class="stack"><p><a href="${BASE}">All complaints</a></p>
<article class="card" aria-labelledby="complaint-title">
  <h2 id="complaint-title">${label(c.category)} <span class="badge ${c.status}">${c.status}</span></h2>
  <dl class="facts">
    <dt>Filed</dt><dd>${when(c.createdAt)}</dd>
    <dt>By</dt><dd><a href="/console/admin/users/${c.complainantId}">user ${c.complainantId}</a></dd>
    <dt>About</dt><dd>${subjectLink(c.subject)}</dd>
    <dt>Assigned to</dt><dd>${
      c.assigneeId ? (c.assigneeId === me ? "you" : c.assigneeId) : "nobody yet"
    }</dd>
    ${
      c.outcome
        ? html`<dt>Outcome</dt><dd>${label(c.outcome)}</dd>
    <dt>Note</dt><dd>${c.resolutionNote ?? ""}</dd>
    <dt>Resolved</dt><dd>${when(c.resolvedAt)}</dd>`
        : ""
    }
  </dl>
  <h3>What they wrote</h3>
  <p>${c.text}</p>
</article>
${state.notice ?? ""}${alert(state.message)}
${
  open && c.assigneeId !== me
    ? html`<form method="post" action="${BASE}/${c.id}/assign">
  <button type="submit" class="secondary">Assign to me</button>
</form>`
    : ""
}
${
  open
    ? html`<form method="post" action="${BASE}/${c.id}/resolve" class="card" aria-labelledby="resolve-title">
  <h2 id="resolve-title">Resolve</h2>
  ${select({
    id: "f-outcome",
    name: "outcome",
    label: "Outcome (rejected dismisses it)",
    options: complaintOutcome.enumValues,
    value: state.values?.outcome,
    blank: "choose one",
    errors,
  })}
  ${textarea({
    id: "f-note",
    name: "note",
    label: "Note the complainant is told",
    value: state.values?.note,
    errors,
    required: true,
  })}
  <button type="submit">Resolve complaint</button>
</form>`
    : ""
}</div>`;
}

const complaint = recordPages({
  what: "complaint",
  title: "Complaint",
  base: BASE,
  done: DONE,
  load: getComplaint,
  render: (c, record, state) => detail(record, c.get("user")?.id, state),
});

/** Complaints: the list by status, one complaint, take it, resolve it with an outcome and note. */
export const adminComplaintPages = new Hono<AppEnv>()
  .get("/admin/complaints", (c) =>
    filteredList(c, {
      title: "Complaints",
      path: BASE,
      filters: [{ name: "status", label: "Status", options: complaintStatus.enumValues }],
      schema: z.object({ status: z.enum(complaintStatus.enumValues).optional() }),
      defaults: { status: "open" },
      load: (ctx, q, p) => listComplaintsForAdmin(ctx, { ...q, ...p }),
      empty: "No complaints match.",
      render: (items) => html`<div class="table-wrap"><table class="grid-table">
<caption class="sr-only">Complaints, newest first</caption>
<thead><tr><th scope="col">Filed</th><th scope="col">Category</th><th scope="col">About</th><th scope="col">Status</th><th scope="col">Outcome</th></tr></thead>
<tbody>${items.map(row)}</tbody></table></div>`,
    }),
  )
  .get("/admin/complaints/:id", complaint.show)
  .post(
    "/admin/complaints/:id/assign",
    complaint.decide("assigned", (ctx, id) => assignComplaint(ctx, id, {})),
  )
  .post(
    "/admin/complaints/:id/resolve",
    complaint.decide("resolved", (ctx, id, form) =>
      resolveComplaint(ctx, id, parseOr422(resolveComplaintInput, form)),
    ),
  );
