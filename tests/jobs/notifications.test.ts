import { createExecutionContext, createMessageBatch, getQueueResult } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { and, eq } from "drizzle-orm";
import { describe, expect, it } from "vitest";
import { notifications, outboundMessages } from "../../src/db/schema/index.ts";
import worker from "../../src/index.ts";
import { openJobContext } from "../../src/jobs/context.ts";
import { handleNotification } from "../../src/jobs/notifications.ts";
import { resendSender } from "../../src/services/notifications/mail.ts";
import { notify } from "../../src/services/notifications/notify.ts";
import { withDb } from "../helpers/db.ts";
import { eventually } from "../helpers/eventually.ts";
import { uniqueEmail } from "../helpers/http.ts";
import { registerUser } from "../helpers/users.ts";

const sentTo = (to: string) =>
  withDb((db) => db.select().from(outboundMessages).where(eq(outboundMessages.recipient, to)));

/** A stand-in for Resend's HTTP API: records each request, answers like Resend does. */
function fakeResend(status = 200) {
  const calls: Array<{ url: string; headers: Headers; body: Record<string, unknown> }> = [];
  const fetcher: typeof fetch = async (input, init) => {
    calls.push({
      url: String(input),
      headers: new Headers(init?.headers),
      body: JSON.parse(String(init?.body)) as Record<string, unknown>,
    });
    return status === 200
      ? Response.json({ id: `re_${calls.length}` })
      : Response.json({ name: "internal_server_error" }, { status });
  };
  return { calls, fetcher };
}

async function withJob<T>(fn: (ctx: ReturnType<typeof openJobContext>["ctx"]) => Promise<T>) {
  const { ctx, close } = openJobContext(env, "test:notifications");
  try {
    return await fn(ctx);
  } finally {
    await close();
  }
}

describe("notifications consumer", () => {
  it("writes the in-app row and sends the email once for a message delivered twice", async () => {
    const u = await registerUser();
    const to = uniqueEmail("twice");
    const dedupeKey = `test:${crypto.randomUUID()}`;
    const body = {
      userId: u.id,
      kind: "test",
      title: "Hello",
      body: "In-app text",
      dedupeKey,
      email: { to, subject: "Hello by mail", text: "Mail text" },
    };
    const batch = createMessageBatch<unknown>("notifications", [
      { id: "m-1", timestamp: new Date(), attempts: 1, body },
      { id: "m-2", timestamp: new Date(), attempts: 2, body },
    ]);
    const ctx = createExecutionContext();
    await worker.queue(batch, env);
    expect((await getQueueResult(batch, ctx)).explicitAcks.sort()).toEqual(["m-1", "m-2"]);
    const mails = await sentTo(to);
    expect(mails).toHaveLength(1);
    expect(mails[0]).toMatchObject({ transport: "dev-mailbox", subject: "Hello by mail" });
    const rows = await withDb((db) =>
      db.select().from(notifications).where(eq(notifications.dedupeKey, dedupeKey)),
    );
    expect(rows).toHaveLength(1);
  });

  it("sends a message with no userId (a shop's contact address) as email only", async () => {
    const to = uniqueEmail("contact");
    const dedupeKey = `test:${crypto.randomUUID()}`;
    await notify(env.NOTIFICATIONS, {
      kind: "test",
      title: "Code",
      body: "",
      dedupeKey,
      email: { to, subject: "Your code", text: "123456" },
    });
    const [mail] = await eventually(async () => {
      const rows = await sentTo(to);
      return rows.length > 0 ? rows : undefined;
    });
    expect(mail?.body).toBe("123456");
    const rows = await withDb((db) =>
      db.select().from(notifications).where(eq(notifications.dedupeKey, dedupeKey)),
    );
    expect(rows).toHaveLength(0);
  });

  it("refuses at the producer a message with no recipient at all", async () => {
    await expect(
      notify(env.NOTIFICATIONS, { kind: "test", title: "T", body: "B", dedupeKey: "x" }),
    ).rejects.toThrow();
  });

  it("sends through Resend with the key, the sender and an Idempotency-Key; once per dedupeKey", async () => {
    const resend = fakeResend();
    const sender = resendSender("re_test_key", "Souk <no-reply@souk.dev>", resend.fetcher);
    const to = uniqueEmail("resend");
    const dedupeKey = `test:${crypto.randomUUID()}`;
    const message = {
      kind: "test",
      title: "T",
      body: "",
      dedupeKey,
      email: { to, subject: "Via Resend", text: "Secret 654321" },
    };
    await withJob(async (ctx) => {
      await handleNotification(ctx, message, sender);
      await handleNotification(ctx, message, sender);
    });
    expect(resend.calls).toHaveLength(1);
    const [call] = resend.calls;
    expect(call?.url).toBe("https://api.resend.com/emails");
    expect(call?.headers.get("authorization")).toBe("Bearer re_test_key");
    expect(call?.headers.get("idempotency-key")).toBe(`email/${dedupeKey}`);
    expect(call?.body).toEqual({
      from: "Souk <no-reply@souk.dev>",
      to: [to],
      subject: "Via Resend",
      text: "Secret 654321",
    });
    const [row] = await sentTo(to);
    // The ledger keeps who and when, never the body of a real email.
    expect(row).toMatchObject({ transport: "resend", providerMessageId: "re_1", body: null });
  });

  it("throws on a failed send so the queue retries, and records nothing as sent", async () => {
    const resend = fakeResend(500);
    const sender = resendSender("re_test_key", "Souk <no-reply@souk.dev>", resend.fetcher);
    const to = uniqueEmail("fails");
    const message = {
      kind: "test",
      title: "T",
      body: "",
      dedupeKey: `test:${crypto.randomUUID()}`,
      email: { to, subject: "S", text: "X" },
    };
    await withJob(async (ctx) => {
      await expect(handleNotification(ctx, message, sender)).rejects.toThrow(/Resend answered 500/);
    });
    expect(await sentTo(to)).toHaveLength(0);
  });

  it("retries a malformed message through the batch runner instead of acking it", async () => {
    const batch = createMessageBatch<unknown>("notifications", [
      {
        id: "bad-email",
        timestamp: new Date(),
        attempts: 3,
        body: { kind: "t", title: "t", body: "", dedupeKey: "k", email: { to: "nope" } },
      },
    ]);
    const ctx = createExecutionContext();
    await worker.queue(batch, env);
    const result = await getQueueResult(batch, ctx);
    expect(result.explicitAcks).toEqual([]);
    expect(result.retryMessages.map((m) => m.msgId)).toEqual(["bad-email"]);
  });

  it("delivers SMS to the dev mailbox addressed to the number", async () => {
    const phone = `+3519${Array.from(crypto.getRandomValues(new Uint8Array(8)), (b) => b % 10).join("")}`;
    const dedupeKey = `test:${crypto.randomUUID()}`;
    await withJob((ctx) =>
      handleNotification(ctx, {
        kind: "test",
        title: "SMS",
        body: "",
        dedupeKey,
        sms: { to: phone, text: "Code 111222" },
      }),
    );
    const rows = await withDb((db) =>
      db
        .select()
        .from(outboundMessages)
        .where(and(eq(outboundMessages.recipient, phone), eq(outboundMessages.channel, "sms"))),
    );
    expect(rows).toEqual([
      expect.objectContaining({ transport: "dev-mailbox", body: "Code 111222" }),
    ]);
  });
});
