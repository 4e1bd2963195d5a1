import { eq } from "drizzle-orm";
import { describe, expect, it } from "vitest";
import { auditLog, notifications } from "../../../src/db/schema/index.ts";
import { uuidv7 } from "../../../src/lib/ids.ts";
import { withDb } from "../../helpers/db.ts";
import { api, type Problem } from "../../helpers/http.ts";
import { registerUser } from "../../helpers/users.ts";

interface Inbox {
  items: Array<{ id: string; title: string; readAt: string | null }>;
  nextCursor: string | null;
  unreadCount: number;
}

/** Writes in-app notifications as the consumer would, oldest first. */
async function seedNotifications(userId: string, titles: string[]): Promise<string[]> {
  const ids = titles.map(() => uuidv7());
  await withDb((db) =>
    db.insert(notifications).values(
      titles.map((title, i) => ({
        id: ids[i] ?? uuidv7(),
        userId,
        kind: "test",
        title,
        body: `body of ${title}`,
        dedupeKey: `test:${crypto.randomUUID()}`,
      })),
    ),
  );
  return ids;
}

describe("/v1/notifications", () => {
  it("lists only the caller's own notifications, newest first, with the unread count", async () => {
    const u = await registerUser();
    const other = await registerUser();
    await seedNotifications(u.id, ["n1", "n2", "n3"]);
    await seedNotifications(other.id, ["not yours"]);
    const res = await api<Inbox>("GET", "/v1/notifications", { token: u.accessToken });
    expect(res.status).toBe(200);
    expect(res.body.items.map((n) => n.title)).toEqual(["n3", "n2", "n1"]);
    expect(res.body.unreadCount).toBe(3);
    const page = await api<Inbox>("GET", "/v1/notifications?limit=2", { token: u.accessToken });
    expect(page.body.items.map((n) => n.title)).toEqual(["n3", "n2"]);
    const rest = await api<Inbox>(
      "GET",
      `/v1/notifications?limit=2&cursor=${page.body.nextCursor}`,
      { token: u.accessToken },
    );
    expect(rest.body.items.map((n) => n.title)).toEqual(["n1"]);
    expect(rest.body.nextCursor).toBeNull();
  });

  it("marks one read (idempotently, one audit row) and filters unread ones", async () => {
    const u = await registerUser();
    const [first] = await seedNotifications(u.id, ["a", "b"]);
    const read = await api<{ id: string; readAt: string | null }>(
      "POST",
      `/v1/notifications/${first}/read`,
      { token: u.accessToken },
    );
    expect(read.status).toBe(200);
    expect(read.body.readAt).toEqual(expect.any(String));
    const again = await api<{ readAt: string | null }>("POST", `/v1/notifications/${first}/read`, {
      token: u.accessToken,
    });
    expect(again.status).toBe(200);
    expect(again.body.readAt).toBe(read.body.readAt);
    const unread = await api<Inbox>("GET", "/v1/notifications?unread=true", {
      token: u.accessToken,
    });
    expect(unread.body.items.map((n) => n.title)).toEqual(["b"]);
    expect(unread.body.unreadCount).toBe(1);
    const all = await api<Inbox>("GET", "/v1/notifications?unread=false", { token: u.accessToken });
    expect(all.body.items).toHaveLength(2);
    const audits = await withDb((db) =>
      db
        .select()
        .from(auditLog)
        .where(eq(auditLog.entityId, first ?? "")),
    );
    expect(audits.map((a) => a.action)).toEqual(["notification.read"]);
  });

  it("answers 404 for another user's notification and leaves it unread", async () => {
    const owner = await registerUser();
    const other = await registerUser();
    const [id] = await seedNotifications(owner.id, ["private"]);
    const res = await api<Problem>("POST", `/v1/notifications/${id}/read`, {
      token: other.accessToken,
    });
    expect(res.status).toBe(404);
    expect(res.body.code).toBe("NOT_FOUND");
    const [row] = await withDb((db) =>
      db
        .select()
        .from(notifications)
        .where(eq(notifications.id, id ?? "")),
    );
    expect(row?.readAt).toBeNull();
    expect(
      (
        await api("POST", `/v1/notifications/${crypto.randomUUID()}/read`, {
          token: other.accessToken,
        })
      ).status,
    ).toBe(404);
  });

  it("names bad parameters with 422", async () => {
    const u = await registerUser();
    const bad = await api<Problem>("GET", "/v1/notifications?unread=yes&limit=0", {
      token: u.accessToken,
    });
    expect(bad.status).toBe(422);
    expect(bad.body.errors?.map((e) => e.field).sort()).toEqual(["limit", "unread"]);
    const badCursor = await api<Problem>("GET", "/v1/notifications?cursor=garbage", {
      token: u.accessToken,
    });
    expect(badCursor.body.errors?.[0]).toMatchObject({ field: "cursor", in: "query" });
    const badId = await api<Problem>("POST", "/v1/notifications/123/read", {
      token: u.accessToken,
    });
    expect(badId.status).toBe(422);
    expect(badId.body.errors?.[0]).toMatchObject({ field: "id", in: "path" });
  });
});
