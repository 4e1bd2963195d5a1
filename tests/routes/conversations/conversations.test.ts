import { describe, expect, it } from "vitest";
import { auditRows } from "../../helpers/audit.ts";
import { createProduct, seedCategory } from "../../helpers/catalog.ts";
import { noticesOf, seedOrder, waitForNotice } from "../../helpers/feedback.ts";
import { api, type Problem } from "../../helpers/http.ts";
import { createAdmin, seedMember, seedShop } from "../../helpers/shops.ts";
import { registerUser } from "../../helpers/users.ts";

interface Conversation {
  id: string;
  shopId: string;
  productId: string | null;
  orderId: string | null;
  unreadCount: number;
}
interface Message {
  id: string;
  side: "buyer" | "shop";
  body: string;
}
interface Opened {
  conversation: Conversation;
  message: Message;
  created: boolean;
}
interface Page<T> {
  items: T[];
  nextCursor: string | null;
}

const open = (token: string, body: Record<string, unknown>) =>
  api<Opened & Problem>("POST", "/v1/conversations", { token, body });

describe("/v1/conversations", () => {
  it("opens one conversation per buyer, shop and subject and reuses it", async () => {
    const buyer = await registerUser();
    const shop = await seedShop({ status: "approved" });
    const category = await seedCategory();
    const product = await createProduct(shop.owner.accessToken, {
      shopId: shop.id,
      categoryId: category.id,
      status: "draft",
    });
    const orderId = await seedOrder(buyer.id, shop.id, "paid");
    const t = buyer.accessToken;

    const general = await open(t, { shopId: shop.id, body: "Hello" });
    expect(general.status).toBe(201);
    expect(general.body.created).toBe(true);
    const again = await open(t, { shopId: shop.id, body: "Hello again" });
    expect(again.status).toBe(200);
    expect(again.body.conversation.id).toBe(general.body.conversation.id);

    const about = await open(t, { shopId: shop.id, productId: product.id, body: "Size?" });
    expect(about.status).toBe(201);
    expect(about.body.conversation.productId).toBe(product.id);
    const order = await open(t, { shopId: shop.id, orderId, body: "Where is it?" });
    expect(order.status).toBe(201);
    expect(order.body.conversation.orderId).toBe(orderId);

    const mine = await api<Page<Conversation>>("GET", "/v1/conversations?limit=2", { token: t });
    expect(mine.body.items.map((c) => c.id)).toEqual([
      order.body.conversation.id,
      about.body.conversation.id,
    ]);
    const rest = await api<Page<Conversation>>(
      "GET",
      `/v1/conversations?limit=2&cursor=${mine.body.nextCursor}`,
      { token: t },
    );
    expect(rest.body.items.map((c) => c.id)).toEqual([general.body.conversation.id]);
    expect(rest.body.nextCursor).toBeNull();
    const rows = await auditRows(general.body.conversation.id, { entityType: "conversation" });
    expect(rows.map((r) => r.action).sort()).toEqual([
      "conversation.opened",
      "message.sent",
      "message.sent",
    ]);
  });

  it("refuses another buyer's order, another shop's product, a hidden shop and its own team", async () => {
    const buyer = await registerUser();
    const other = await registerUser();
    const shop = await seedShop({ status: "approved" });
    const elsewhere = await seedShop({ status: "approved" });
    const hidden = await seedShop({ status: "suspended" });
    const category = await seedCategory();
    const foreign = await createProduct(elsewhere.owner.accessToken, {
      shopId: elsewhere.id,
      categoryId: category.id,
      status: "draft",
    });
    const othersOrder = await seedOrder(other.id, shop.id);
    const t = buyer.accessToken;
    expect((await open(t, { shopId: shop.id, orderId: othersOrder, body: "x" })).status).toBe(404);
    expect((await open(t, { shopId: shop.id, productId: foreign.id, body: "x" })).status).toBe(404);
    expect((await open(t, { shopId: hidden.id, body: "x" })).status).toBe(404);
    // A buyer with an order from a shop that has since been hidden can still reach it about it.
    const ownOrder = await seedOrder(buyer.id, hidden.id);
    expect((await open(t, { shopId: hidden.id, orderId: ownOrder, body: "x" })).status).toBe(201);
    expect((await open(shop.owner.accessToken, { shopId: shop.id, body: "x" })).status).toBe(409);
  });

  it("carries messages both ways, newest first, with unread counts, read marks and notices", async () => {
    const buyer = await registerUser();
    const shop = await seedShop({ status: "approved" });
    const staff = await registerUser("seller");
    await seedMember(shop.id, staff, "staff");
    const opened = await open(buyer.accessToken, { shopId: shop.id, body: "Is it in stock?" });
    const id = opened.body.conversation.id;
    await waitForNotice(shop.owner.id, `message:${opened.body.message.id}:`);
    await waitForNotice(staff.id, `message:${opened.body.message.id}:`);

    const asShop = await api<Page<Conversation>>("GET", `/v1/conversations?shopId=${shop.id}`, {
      token: staff.accessToken,
    });
    expect(asShop.body.items.map((c) => [c.id, c.unreadCount])).toEqual([[id, 1]]);

    const reply = await api<Message>("POST", `/v1/conversations/${id}/messages`, {
      token: staff.accessToken,
      body: { body: "Yes, three left." },
    });
    expect(reply.status).toBe(201);
    expect(reply.body.side).toBe("shop");
    await waitForNotice(buyer.id, `message:${reply.body.id}:${buyer.id}`);
    // The sender is not told of their own message.
    expect(await noticesOf(staff.id, `message:${reply.body.id}:`)).toHaveLength(0);

    const buyerView = await api<Conversation>("GET", `/v1/conversations/${id}`, {
      token: buyer.accessToken,
    });
    expect(buyerView.body.unreadCount).toBe(1);
    const read = await api<Conversation>("POST", `/v1/conversations/${id}/read`, {
      token: buyer.accessToken,
    });
    expect(read.status).toBe(200);
    expect(read.body.unreadCount).toBe(0);

    const msgs = await api<Page<Message>>("GET", `/v1/conversations/${id}/messages?limit=1`, {
      token: buyer.accessToken,
    });
    expect(msgs.body.items.map((m) => m.body)).toEqual(["Yes, three left."]);
    const older = await api<Page<Message>>(
      "GET",
      `/v1/conversations/${id}/messages?limit=1&cursor=${msgs.body.nextCursor}`,
      { token: buyer.accessToken },
    );
    expect(older.body.items.map((m) => m.body)).toEqual(["Is it in stock?"]);
  });

  it("lets admins read but not write; a non-member listing a shop's gets 404", async () => {
    const buyer = await registerUser();
    const admin = await createAdmin();
    const stranger = await registerUser("seller");
    const shop = await seedShop({ status: "approved" });
    const opened = await open(buyer.accessToken, { shopId: shop.id, body: "Hi" });
    const id = opened.body.conversation.id;
    const a = admin.accessToken;
    expect((await api("GET", `/v1/conversations/${id}`, { token: a })).status).toBe(200);
    const msgs = await api<Page<Message>>("GET", `/v1/conversations/${id}/messages`, { token: a });
    expect(msgs.body.items).toHaveLength(1);
    const write = await api("POST", `/v1/conversations/${id}/messages`, {
      token: a,
      body: { body: "Admin here" },
    });
    expect(write.status).toBe(403);
    const list = await api("GET", `/v1/conversations?shopId=${shop.id}`, {
      token: stranger.accessToken,
    });
    expect(list.status).toBe(404);
  });

  it("answers 422 naming each bad field", async () => {
    const buyer = await registerUser();
    const res = await open(buyer.accessToken, { shopId: "x", body: "" });
    expect(res.status).toBe(422);
    expect(res.body.errors?.map((e) => e.field).sort()).toEqual(["body", "shopId"]);
    const both = await open(buyer.accessToken, {
      shopId: crypto.randomUUID(),
      productId: crypto.randomUUID(),
      orderId: crypto.randomUUID(),
      body: "x",
    });
    expect(both.status).toBe(422);
    expect(both.body.errors?.[0]?.field).toBe("orderId");
  });
});
