import { describe, expect, it } from "vitest";
import { auditRows } from "../../helpers/audit.ts";
import { seedOrder, waitForNotice } from "../../helpers/feedback.ts";
import { api, type Problem } from "../../helpers/http.ts";
import { createAdmin, seedShop } from "../../helpers/shops.ts";
import { registerUser } from "../../helpers/users.ts";

interface Complaint {
  id: string;
  status: string;
  assigneeId: string | null;
  outcome: string | null;
  resolutionNote: string | null;
  subject: { type: string; id: string };
}
interface ComplaintPage {
  items: Complaint[];
  nextCursor: string | null;
}

const text = "The parcel never arrived and the seller does not answer.";

describe("POST /v1/complaints", () => {
  it("files complaints about an own order, a visible shop and a user; lists them newest first", async () => {
    const buyer = await registerUser();
    const shop = await seedShop({ status: "approved" });
    const orderId = await seedOrder(buyer.id, shop.id, "shipped");
    const t = buyer.accessToken;
    const subjects = [
      { type: "order", id: orderId },
      { type: "shop", id: shop.id },
      { type: "user", id: shop.owner.id },
    ];
    const ids: string[] = [];
    for (const subject of subjects) {
      const res = await api<Complaint>("POST", "/v1/complaints", {
        token: t,
        body: { subject, category: "not_received", text },
      });
      expect(res.status).toBe(201);
      expect(res.body.status).toBe("open");
      expect(res.body.subject).toEqual(subject);
      ids.push(res.body.id);
    }
    await waitForNotice(buyer.id, `complaint.received:${ids[0]}`);
    const first = await api<ComplaintPage>("GET", "/v1/complaints?limit=2", { token: t });
    expect(first.body.items.map((c) => c.id)).toEqual([ids[2], ids[1]]);
    const rest = await api<ComplaintPage>(
      "GET",
      `/v1/complaints?limit=2&cursor=${first.body.nextCursor}`,
      { token: t },
    );
    expect(rest.body.items.map((c) => c.id)).toEqual([ids[0]]);
    expect(rest.body.nextCursor).toBeNull();
    expect(await auditRows(ids[0] ?? "", { entityType: "complaint" })).toHaveLength(1);
  });

  it("answers 404 for another buyer's order or a hidden shop, 422 for oneself", async () => {
    const buyer = await registerUser();
    const other = await registerUser();
    const shop = await seedShop({ status: "approved" });
    const hidden = await seedShop({ status: "pending" });
    const orderId = await seedOrder(other.id, shop.id);
    const file = (subject: { type: string; id: string }) =>
      api<Problem>("POST", "/v1/complaints", {
        token: buyer.accessToken,
        body: { subject, category: "fraud", text },
      });
    expect((await file({ type: "order", id: orderId })).status).toBe(404);
    expect((await file({ type: "shop", id: hidden.id })).status).toBe(404);
    expect((await file({ type: "user", id: crypto.randomUUID() })).status).toBe(404);
    const self = await file({ type: "user", id: buyer.id });
    expect(self.status).toBe(422);
    expect(self.body.errors?.[0]?.field).toBe("subject.id");
  });

  it("answers 422 naming each bad field", async () => {
    const buyer = await registerUser();
    const res = await api<Problem>("POST", "/v1/complaints", {
      token: buyer.accessToken,
      body: { subject: { type: "planet", id: "x" }, category: "rude", text: "short" },
    });
    expect(res.status).toBe(422);
    expect(res.body.errors?.map((e) => e.field).sort()).toEqual([
      "category",
      "subject.id",
      "subject.type",
      "text",
    ]);
  });
});

describe("/v1/admin/complaints", () => {
  it("assigns and resolves with one audit row each, telling the complainant at every step", async () => {
    const buyer = await registerUser();
    const admin = await createAdmin();
    const shop = await seedShop({ status: "approved" });
    const filed = await api<Complaint>("POST", "/v1/complaints", {
      token: buyer.accessToken,
      body: { subject: { type: "shop", id: shop.id }, category: "counterfeit", text },
    });
    const id = filed.body.id;
    const a = admin.accessToken;

    const open = await api<ComplaintPage>("GET", "/v1/admin/complaints?status=open&limit=100", {
      token: a,
    });
    expect(open.body.items.some((c) => c.id === id)).toBe(true);

    const assigned = await api<Complaint>("POST", `/v1/admin/complaints/${id}/assign`, {
      token: a,
    });
    expect(assigned.status).toBe(200);
    expect(assigned.body).toMatchObject({ status: "assigned", assigneeId: admin.id });
    expect((await auditRows(id, { entityType: "complaint" })).map((r) => r.action).sort()).toEqual([
      "complaint.assigned",
      "complaint.created",
    ]);
    await waitForNotice(buyer.id, `complaint.assigned:${id}`);

    const stillOpen = await api<ComplaintPage>(
      "GET",
      "/v1/admin/complaints?status=open&limit=100",
      { token: a },
    );
    expect(stillOpen.body.items.some((c) => c.id === id)).toBe(false);

    const resolved = await api<Complaint>("POST", `/v1/admin/complaints/${id}/resolve`, {
      token: a,
      body: { note: "Listing removed.", outcome: "upheld" },
    });
    expect(resolved.status).toBe(200);
    expect(resolved.body).toMatchObject({
      status: "resolved",
      outcome: "upheld",
      resolutionNote: "Listing removed.",
    });
    await waitForNotice(buyer.id, `complaint.resolved:${id}`);
    const rows = await auditRows(id, { entityType: "complaint" });
    expect(rows.map((r) => r.action).sort()).toEqual([
      "complaint.assigned",
      "complaint.created",
      "complaint.resolved",
    ]);
    expect(rows.find((r) => r.action === "complaint.resolved")?.actorId).toBe(admin.id);

    const again = await api<Problem>("POST", `/v1/admin/complaints/${id}/resolve`, {
      token: a,
      body: { note: "Twice.", outcome: "rejected" },
    });
    expect(again.status).toBe(409);
    const reassign = await api<Problem>("POST", `/v1/admin/complaints/${id}/assign`, {
      token: a,
    });
    expect(reassign.status).toBe(409);
    expect(await auditRows(id, { entityType: "complaint" })).toHaveLength(3);
  });

  it("assigns to another admin only; non-admins are refused; bad input is 422", async () => {
    const buyer = await registerUser();
    const admin = await createAdmin();
    const colleague = await createAdmin();
    const filed = await api<Complaint>("POST", "/v1/complaints", {
      token: buyer.accessToken,
      body: { subject: { type: "user", id: admin.id }, category: "abuse", text },
    });
    const id = filed.body.id;
    const toBuyer = await api<Problem>("POST", `/v1/admin/complaints/${id}/assign`, {
      token: admin.accessToken,
      body: { adminId: buyer.id },
    });
    expect(toBuyer.status).toBe(422);
    expect(toBuyer.body.errors?.[0]?.field).toBe("adminId");
    const toColleague = await api<Complaint>("POST", `/v1/admin/complaints/${id}/assign`, {
      token: admin.accessToken,
      body: { adminId: colleague.id },
    });
    expect(toColleague.body.assigneeId).toBe(colleague.id);
    const bad = await api<Problem>("POST", `/v1/admin/complaints/${id}/resolve`, {
      token: admin.accessToken,
      body: { outcome: "maybe" },
    });
    expect(bad.status).toBe(422);
    expect(bad.body.errors?.map((e) => e.field).sort()).toEqual(["note", "outcome"]);
    const asBuyer = await api<Problem>("GET", "/v1/admin/complaints", {
      token: buyer.accessToken,
    });
    expect(asBuyer.status).toBe(403);
    const missing = await api<Problem>(
      "POST",
      `/v1/admin/complaints/${crypto.randomUUID()}/assign`,
      { token: admin.accessToken },
    );
    expect(missing.status).toBe(404);
  });
});
