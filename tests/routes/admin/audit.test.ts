import { describe, expect, it } from "vitest";
import { auditLog } from "../../../src/db/schema/index.ts";
import { uuidv7 } from "../../../src/lib/ids.ts";
import { withDb } from "../../helpers/db.ts";
import { api, type Problem } from "../../helpers/http.ts";
import { createAdmin } from "../../helpers/shops.ts";
import { registerUser } from "../../helpers/users.ts";

interface Entry {
  id: string;
  at: string;
  actorId: string | null;
  action: string;
  entityType: string;
  entityId: string;
}
interface AuditPage {
  items: Entry[];
  nextCursor: string | null;
}

/** Seeds audit rows under an entity type no other test uses, oldest first, one ms apart. */
async function seedAudit(
  rows: Array<{ action: string; actorId?: string; entityId?: string; at?: Date }>,
) {
  const entityType = `test-${crypto.randomUUID().slice(0, 8)}`;
  const ids: string[] = [];
  for (const r of rows) {
    const id = uuidv7();
    ids.push(id);
    await withDb((db) =>
      db.insert(auditLog).values({
        id,
        at: r.at ?? new Date(),
        actorId: r.actorId ?? null,
        actorType: "user",
        action: r.action,
        entityType,
        entityId: r.entityId ?? "e1",
      }),
    );
  }
  return { entityType, ids };
}

const list = (token: string, qs: string) =>
  api<AuditPage & Problem>("GET", `/v1/admin/audit?${qs}`, { token });

describe("GET /v1/admin/audit", () => {
  it("pages newest first by id with no duplicates or gaps", async () => {
    const admin = await createAdmin();
    const { entityType, ids } = await seedAudit(
      Array.from({ length: 7 }, (_, i) => ({ action: `thing.step${i}` })),
    );
    const seen: string[] = [];
    let cursor: string | null = null;
    for (let i = 0; i < 10; i++) {
      const qs: string = `entityType=${entityType}&limit=3${cursor ? `&cursor=${cursor}` : ""}`;
      const page = await list(admin.accessToken, qs);
      expect(page.status).toBe(200);
      seen.push(...page.body.items.map((e) => e.id));
      cursor = page.body.nextCursor;
      if (!cursor) break;
    }
    expect(seen).toEqual([...ids].reverse());
  });

  it("filters by actor, entity id, exact action, action prefix and time range", async () => {
    const admin = await createAdmin();
    const actor = uuidv7();
    const old = new Date(Date.now() - 3 * 86_400_000);
    const { entityType, ids } = await seedAudit([
      { action: "order.paid", actorId: actor, entityId: "o1", at: old },
      { action: "order.cancelled", entityId: "o2" },
      { action: "orderly.thing", entityId: "o1" },
      { action: "shop.approved", actorId: actor, entityId: "s1" },
    ]);
    const t = admin.accessToken;
    const idsOf = async (qs: string) =>
      (await list(t, `entityType=${entityType}&${qs}`)).body.items.map((e) => e.id);
    expect(await idsOf(`actorId=${actor}`)).toEqual([ids[3], ids[0]]);
    expect(await idsOf("entityId=o1")).toEqual([ids[2], ids[0]]);
    expect(await idsOf("action=order.paid")).toEqual([ids[0]]);
    expect(await idsOf("action=order.")).toEqual([ids[1], ids[0]]);
    expect(await idsOf("action=order*")).toEqual([ids[2], ids[1], ids[0]]);
    const from = new Date(Date.now() - 86_400_000).toISOString();
    expect(await idsOf(`from=${encodeURIComponent(from)}`)).toEqual([ids[3], ids[2], ids[1]]);
    expect(await idsOf(`to=${encodeURIComponent(from)}`)).toEqual([ids[0]]);
  });

  it("is for admins only", async () => {
    const u = await registerUser();
    expect((await list(u.accessToken, "")).status).toBe(403);
  });

  it("answers 422 naming each bad filter", async () => {
    const admin = await createAdmin();
    const res = await list(
      admin.accessToken,
      "actorId=nope&from=yesterday&limit=0&cursor=%21%21garbage",
    );
    expect(res.status).toBe(422);
    const fields = res.body.errors?.map((e) => e.field).sort();
    expect(fields).toEqual(["actorId", "from", "limit"]);
    const bad = await list(admin.accessToken, "cursor=garbage");
    expect(bad.status).toBe(422);
    expect(bad.body.errors?.[0]?.field).toBe("cursor");
    const range = await list(
      admin.accessToken,
      "from=2026-01-02T00:00:00Z&to=2026-01-01T00:00:00Z",
    );
    expect(range.status).toBe(422);
    expect(range.body.errors?.[0]?.field).toBe("to");
  });
});
