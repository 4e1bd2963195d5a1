import { Hono } from "hono";
import { html } from "hono/html";
import type { AppEnv } from "../../../http/context.ts";
import { serviceContext } from "../../../http/service-context.ts";
import {
  listNotifications,
  markNotificationRead,
  type NotificationView,
} from "../../../services/notifications/inbox.ts";
import { type Html, page } from "../../layout.ts";
import { requireViewer } from "../../session.ts";
import { buyerTabs, idParam, signedIn, when } from "./ui.ts";

const INBOX_PAGE = 30;

/** Where a notification leads, from what its data names (a conversation, an order, a product). */
function linkOf(n: NotificationView): string | null {
  const d = n.data ?? {};
  const id = (k: string) => (typeof d[k] === "string" ? (d[k] as string) : null);
  if (id("conversationId")) return `/console/messages/${id("conversationId")}`;
  if (id("orderId")) return `/console/orders/${id("orderId")}`;
  if (id("productId")) return `/console/products/${id("productId")}`;
  return null;
}

function entry(n: NotificationView): Html {
  const href = linkOf(n);
  return html`<li class="card" id="note-${n.id}">
  <h2>${href ? html`<a href="${href}">${n.title}</a>` : n.title} ${
    n.readAt ? "" : html`<span class="badge pending">Unread</span>`
  }</h2>
  <p>${n.body}</p>
  <p class="muted"><time datetime="${n.createdAt}">${when(n.createdAt)}</time></p>
  ${
    n.readAt
      ? ""
      : html`<form method="post" action="/console/notifications/${n.id}/read">
    <button type="submit" class="secondary">Mark read<span class="sr-only">: ${n.title}</span></button>
  </form>`
  }
</li>`;
}

/** The user's notifications (the inbox service), newest first, each marked read on its own. */
export const notificationPages = new Hono<AppEnv>()
  .use("/notifications", requireViewer())
  .use("/notifications/*", requireViewer())
  .get("/notifications", async (c) => {
    const cursor = c.req.query("cursor") || undefined;
    const unread = c.req.query("unread") === "true";
    const inbox = await listNotifications(serviceContext(c), signedIn(c).id, {
      limit: INBOX_PAGE,
      unread,
      ...(cursor ? { cursor } : {}),
    });
    const more = new URLSearchParams({ ...(unread ? { unread: "true" } : {}) });
    return page(c, {
      title: "Notifications",
      body: html`${buyerTabs(c)}
<p><span id="unread-count">${inbox.unreadCount} unread</span> · ${
        unread
          ? html`<a href="/console/notifications">Show all</a>`
          : html`<a href="/console/notifications?unread=true">Only unread</a>`
      }</p>
${
  inbox.items.length === 0
    ? html`<p>Nothing here.</p>`
    : html`<ul class="stack">${inbox.items.map(entry)}</ul>`
}
${
  inbox.nextCursor
    ? html`<p><a class="button" href="/console/notifications?${more.toString()}${more.size ? "&" : ""}cursor=${encodeURIComponent(inbox.nextCursor)}">Older</a></p>`
    : ""
}`,
    });
  })
  .post("/notifications/:id/read", async (c) => {
    const id = idParam(c, "id", "notification");
    await markNotificationRead(serviceContext(c), signedIn(c).id, id);
    return c.redirect("/console/notifications", 303);
  });
