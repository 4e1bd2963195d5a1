import { and, desc, eq, lt } from "drizzle-orm";
import { z } from "zod";
import type { Queryable } from "../../db/client.ts";
import { outboundMessages } from "../../db/schema/mailbox.ts";
import { decodeCursor, type Page, toPage } from "../../lib/pagination.ts";
import { ValidationFailed } from "../errors.ts";

export interface MailboxEntry {
  id: string;
  channel: "email" | "sms";
  to: string;
  subject: string;
  text: string;
  createdAt: string;
}

/**
 * The dev mailbox, newest first: what would have been emailed (or texted) locally. Only the
 * dev-mailbox transport keeps bodies, so messages sent through Resend never show up here.
 */
export async function listMailbox(
  db: Queryable,
  q: { to?: string | undefined; limit: number; cursor?: string | undefined },
): Promise<Page<MailboxEntry>> {
  const after = q.cursor ? decodeCursor(q.cursor, z.object({ id: z.uuid() })) : null;
  if (q.cursor && !after) {
    throw new ValidationFailed([
      { field: "cursor", in: "query", message: "is not a valid cursor" },
    ]);
  }
  const rows = await db
    .select()
    .from(outboundMessages)
    .where(
      and(
        eq(outboundMessages.transport, "dev-mailbox"),
        q.to ? eq(outboundMessages.recipient, q.to) : undefined,
        after ? lt(outboundMessages.id, after.id) : undefined,
      ),
    )
    .orderBy(desc(outboundMessages.id))
    .limit(q.limit + 1);
  const page = toPage(rows, q.limit, (m) => ({ id: m.id }));
  return {
    items: page.items.map((m) => ({
      id: m.id,
      channel: m.channel,
      to: m.recipient,
      subject: m.subject,
      text: m.body ?? "",
      createdAt: m.createdAt.toISOString(),
    })),
    nextCursor: page.nextCursor,
  };
}
