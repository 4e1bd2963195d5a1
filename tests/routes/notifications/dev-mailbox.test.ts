import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { buildApp } from "../../../src/app.ts";
import { outboundMessages } from "../../../src/db/schema/index.ts";
import { uuidv7 } from "../../../src/lib/ids.ts";
import { withDb } from "../../helpers/db.ts";
import { api, type Problem, uniqueEmail } from "../../helpers/http.ts";

async function seedMail(to: string, subject: string, transport: "dev-mailbox" | "resend") {
  await withDb((db) =>
    db.insert(outboundMessages).values({
      id: uuidv7(),
      dedupeKey: `test:${crypto.randomUUID()}`,
      channel: "email",
      transport,
      recipient: to,
      subject,
      body: transport === "dev-mailbox" ? `text of ${subject}` : null,
    }),
  );
}

describe("GET /dev/mailbox", () => {
  it("lists the dev mailbox newest first, filtered by recipient (case-insensitively)", async () => {
    const to = uniqueEmail("mbx");
    await seedMail(to, "first", "dev-mailbox");
    await seedMail(to, "second", "dev-mailbox");
    await seedMail(to, "sent for real", "resend");
    await seedMail(uniqueEmail("someone-else"), "other", "dev-mailbox");
    const res = await api<{ items: Array<{ to: string; subject: string; text: string }> }>(
      "GET",
      `/dev/mailbox?to=${encodeURIComponent(to.toUpperCase())}`,
    );
    expect(res.status).toBe(200);
    expect(res.body.items.map((m) => m.subject)).toEqual(["second", "first"]);
    expect(res.body.items[0]).toMatchObject({ to, text: "text of second" });
  });

  it("does not exist in production: the same 404 problem as an unknown route", async () => {
    const app = buildApp();
    const prod = await app.request("/dev/mailbox", {}, { ...env, ENVIRONMENT: "production" });
    expect(prod.status).toBe(404);
    expect(prod.headers.get("content-type")).toBe("application/problem+json");
    expect(((await prod.json()) as Problem).code).toBe("NOT_FOUND");
    // Not even a validation error leaks that the route is there.
    const bad = await app.request(
      "/dev/mailbox?limit=0",
      {},
      { ...env, ENVIRONMENT: "production" },
    );
    expect(bad.status).toBe(404);
    const dev = await app.request("/dev/mailbox", {}, { ...env, ENVIRONMENT: "development" });
    expect(dev.status).toBe(200);
  });

  it("is left out of the OpenAPI document", async () => {
    const doc = await api<{ paths: Record<string, unknown> }>("GET", "/openapi.json");
    expect(Object.keys(doc.body.paths)).not.toContain("/dev/mailbox");
    expect(Object.keys(doc.body.paths)).toEqual(
      expect.arrayContaining([
        "/v1/shops",
        "/v1/shops/{id}",
        "/v1/shops/{id}/otp",
        "/v1/shops/{id}/otp/verify",
        "/v1/shops/{id}/staff",
        "/v1/shops/{id}/staff/{userId}",
        "/v1/seller/shops",
        "/v1/admin/shops",
        "/v1/admin/shops/{id}/approve",
        "/v1/notifications",
        "/v1/notifications/{id}/read",
      ]),
    );
  });
});
