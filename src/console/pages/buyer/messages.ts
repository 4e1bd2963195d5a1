import type { Context } from "hono";
import { Hono } from "hono";
import { html } from "hono/html";
import type { ContentfulStatusCode } from "hono/utils/http-status";
import { z } from "zod";
import type { AppEnv } from "../../../http/context.ts";
import { serviceContext } from "../../../http/service-context.ts";
import { enforceLimit } from "../../../lib/rate-limit.ts";
import {
  type ConversationView,
  getConversation,
  listConversations,
  listMessages,
  markConversationRead,
  openConversation,
  postMessage,
} from "../../../services/conversations/conversations.ts";
import { NotFound } from "../../../services/errors.ts";
import { getShop } from "../../../services/shops/queries.ts";
import { refusalOf } from "../../errors.ts";
import { alert, type FieldMessages, type Html, page } from "../../layout.ts";
import { requireViewer } from "../../session.ts";
import { buyerTabs, formOf, idParam, signedIn, when } from "./ui.ts";

const CONVERSATIONS_PAGE = 25;
const THREAD_MESSAGES = 50;
const uuid = z.uuid();

/** The shops' names, for the list; a shop no longer visible to the viewer is "A shop". */
async function shopNames(c: Context<AppEnv>, ids: string[]): Promise<Map<string, string>> {
  const ctx = serviceContext(c);
  const viewer = signedIn(c);
  const unique = [...new Set(ids)];
  const names = await Promise.all(
    unique.map((id) =>
      getShop(ctx, viewer, id).then(
        (s) => s.name,
        (err: unknown) => {
          if (err instanceof NotFound) return "A shop";
          throw err;
        },
      ),
    ),
  );
  return new Map(unique.map((id, i) => [id, names[i] ?? "A shop"]));
}

/** The message box: a labelled textarea with the service's error beside it. */
function messageBox(opts: {
  action: string;
  typed?: string;
  errors?: FieldMessages;
  hidden?: Html;
}) {
  const error = opts.errors?.body;
  return html`<form method="post" action="${opts.action}" class="card narrow" novalidate>
  ${opts.hidden ?? ""}
  <div class="field">
    <label for="f-body">Message</label>
    <textarea id="f-body" name="body" rows="4" maxlength="5000" required${
      error ? html` aria-invalid="true" aria-describedby="f-body-error"` : ""
    }>${opts.typed ?? ""}</textarea>
    ${error ? html`<p class="error" id="f-body-error">${error}</p>` : ""}
  </div>
  <button type="submit">Send</button>
</form>`;
}

function conversationRow(v: ConversationView, names: Map<string, string>): Html {
  const shop = names.get(v.shopId) ?? "A shop";
  const about = v.orderId ? "about an order" : v.productId ? "about a product" : "";
  return html`<li class="card"><a href="/console/messages/${v.id}">${shop}</a> <span class="muted">${about}</span>
  ${v.unreadCount ? html`<span class="badge pending">${v.unreadCount} unread</span>` : ""}
  <span class="muted block">Last message ${when(v.lastMessageAt)}</span></li>`;
}

interface ThreadState {
  typed?: string;
  errors?: FieldMessages;
  message?: string;
  status?: ContentfulStatusCode;
}

async function threadPage(c: Context<AppEnv>, id: string, state: ThreadState = {}) {
  const ctx = serviceContext(c);
  const conv = await getConversation(ctx, id);
  const [names, messages] = await Promise.all([
    shopNames(c, [conv.shopId]),
    listMessages(ctx, id, { limit: THREAD_MESSAGES }),
  ]);
  // Reading the thread reads its messages, as the API's POST …/read does.
  if (conv.unreadCount > 0) await markConversationRead(ctx, id);
  const shop = names.get(conv.shopId) ?? "A shop";
  const me = signedIn(c).id;
  return page(c, {
    title: `Messages with ${shop}`,
    status: state.status ?? 200,
    body: html`${buyerTabs(c)}${alert(state.message)}
${
  conv.productId
    ? html`<p>About <a href="/console/products/${conv.productId}">a product</a></p>`
    : conv.orderId
      ? html`<p>About <a href="/console/orders/${conv.orderId}">your order</a></p>`
      : ""
}
<ol class="timeline" id="thread" aria-label="Messages, oldest first">${[...messages.items]
      .reverse()
      .map(
        (m) =>
          html`<li><time datetime="${m.createdAt}">${when(m.createdAt)}</time> <strong>${
            m.senderId === me ? "You" : m.side === "shop" ? shop : "Buyer"
          }:</strong> <span class="message-body">${m.body}</span></li>`,
      )}</ol>
${messageBox({ action: `/console/messages/${id}`, ...state })}`,
  });
}

function fieldsOrDetail(r: { fields: FieldMessages; detail: string }): ThreadState {
  return Object.keys(r.fields).length
    ? { errors: r.fields, message: "Check the message below." }
    : { message: r.detail };
}

/**
 * The buyer's conversations with shops (the conversations service): the list with unread
 * counts, a thread (read when opened), a reply, and a first message to a shop about a product.
 * Every message counts against the sender's limit, as in the API; a conversation of someone
 * else's is a 404.
 */
export const messagePages = new Hono<AppEnv>()
  .use("/messages", requireViewer())
  .use("/messages/*", requireViewer())
  .get("/messages", async (c) => {
    const cursor = c.req.query("cursor") || undefined;
    const list = await listConversations(serviceContext(c), {
      limit: CONVERSATIONS_PAGE,
      ...(cursor ? { cursor } : {}),
    });
    const names = await shopNames(
      c,
      list.items.map((v) => v.shopId),
    );
    return page(c, {
      title: "Messages",
      body: html`${buyerTabs(c)}${
        list.items.length === 0
          ? html`<p>No conversations yet. Ask a shop about a product from your wishlist.</p>`
          : html`<ul class="stack">${list.items.map((v) => conversationRow(v, names))}</ul>`
      }${
        list.nextCursor
          ? html`<p><a class="button" href="/console/messages?cursor=${encodeURIComponent(list.nextCursor)}">Older</a></p>`
          : ""
      }`,
    });
  })
  .get("/messages/new", async (c) => {
    const shopId = c.req.query("shop") ?? "";
    const productId = c.req.query("product") ?? "";
    if (!uuid.safeParse(shopId).success) throw new NotFound("shop", shopId);
    const [name] = (await shopNames(c, [shopId])).values();
    return page(c, {
      title: `Write to ${name ?? "a shop"}`,
      body: html`${buyerTabs(c)}${messageBox({
        action: "/console/messages",
        hidden: html`<input type="hidden" name="shopId" value="${shopId}">${
          uuid.safeParse(productId).success
            ? html`<input type="hidden" name="productId" value="${productId}">`
            : ""
        }`,
      })}`,
    });
  })
  .post("/messages", async (c) => {
    const form = await formOf(c);
    const user = signedIn(c);
    try {
      await enforceLimit(c.get("services").redis, "message", user.id);
      const { conversation } = await openConversation(serviceContext(c), {
        shopId: form.shopId ?? "",
        ...(form.productId ? { productId: form.productId } : {}),
        body: form.body ?? "",
      });
      return c.redirect(`/console/messages/${conversation.id}`, 303);
    } catch (err) {
      if (!(err instanceof Error)) throw err;
      const r = await refusalOf(err, c);
      if (r.status !== 422 && r.status !== 429) throw err;
      return page(c, {
        title: "Write to a shop",
        status: r.status,
        body: html`${buyerTabs(c)}${alert(fieldsOrDetail(r).message)}${messageBox({
          action: "/console/messages",
          typed: form.body ?? "",
          errors: r.fields,
          hidden: html`<input type="hidden" name="shopId" value="${form.shopId ?? ""}">${
            form.productId
              ? html`<input type="hidden" name="productId" value="${form.productId}">`
              : ""
          }`,
        })}`,
      });
    }
  })
  .get("/messages/:id", (c) => threadPage(c, idParam(c, "id", "conversation")))
  .post("/messages/:id", async (c) => {
    const id = idParam(c, "id", "conversation");
    const typed = (await formOf(c)).body ?? "";
    try {
      await enforceLimit(c.get("services").redis, "message", signedIn(c).id);
      await postMessage(serviceContext(c), id, { body: typed });
      return c.redirect(`/console/messages/${id}`, 303);
    } catch (err) {
      if (!(err instanceof Error)) throw err;
      const r = await refusalOf(err, c);
      if (r.status !== 422 && r.status !== 429) throw err;
      return threadPage(c, id, { typed, status: r.status, ...fieldsOrDetail(r) });
    }
  });
