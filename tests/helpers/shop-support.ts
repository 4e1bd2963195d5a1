import { eventually } from "./eventually.ts";
import { api, uniqueEmail } from "./http.ts";
import type { TestUser } from "./users.ts";

export interface CreatedShop {
  id: string;
  slug: string;
  status: string;
  contactEmail: string;
  contactPhone: string;
  emailVerifiedAt: string | null;
  visible: boolean;
  myRole: string | null;
}

/** A valid body for POST /v1/shops with a unique slug, email and phone. */
export function shopBody(overrides: Record<string, unknown> = {}) {
  const suffix = crypto.randomUUID().slice(0, 8);
  const digits = Array.from(crypto.getRandomValues(new Uint8Array(8)), (b) => b % 10).join("");
  return {
    name: `Ceramics ${suffix}`,
    slug: `ceramics-${suffix}`,
    description: "Hand-made in Lisbon",
    contactEmail: uniqueEmail("shop"),
    contactPhone: `+3519${digits}`,
    country: "pt",
    currency: "EUR",
    ...overrides,
  };
}

/** Opens a shop through the API as `seller`. */
export async function createShopViaApi(
  seller: TestUser,
  overrides: Record<string, unknown> = {},
): Promise<CreatedShop> {
  const res = await api<CreatedShop>("POST", "/v1/shops", {
    token: seller.accessToken,
    body: shopBody(overrides),
  });
  if (res.status !== 201) throw new Error(`create shop: ${res.status} ${JSON.stringify(res.body)}`);
  return res.body;
}

interface MailboxPage {
  items: Array<{ to: string; subject: string; text: string; channel: string; createdAt: string }>;
}

/** Waits for the newest mailbox entry to `to` whose text differs from `notText`. */
export async function waitForMail(to: string, notText?: string): Promise<MailboxPage["items"][0]> {
  return eventually(async () => {
    const res = await api<MailboxPage>("GET", `/dev/mailbox?to=${encodeURIComponent(to)}`);
    const mail = res.body.items[0];
    return mail && mail.text !== notText ? mail : undefined;
  });
}

/** Reads the 6-digit code out of a mailbox entry. */
export function codeIn(text: string): string {
  const m = /\b(\d{6})\b/.exec(text);
  if (!m?.[1]) throw new Error(`no code in: ${text}`);
  return m[1];
}

/** Issues a code for `purpose` and reads it from the dev mailbox. */
export async function issueAndReadCode(
  owner: TestUser,
  shop: Pick<CreatedShop, "id" | "contactEmail" | "contactPhone">,
  purpose: "email" | "phone" = "email",
): Promise<string> {
  const to = purpose === "email" ? shop.contactEmail : shop.contactPhone;
  const before = await api<MailboxPage>("GET", `/dev/mailbox?to=${encodeURIComponent(to)}`);
  const res = await api("POST", `/v1/shops/${shop.id}/otp`, {
    token: owner.accessToken,
    body: { purpose },
  });
  if (res.status !== 202) throw new Error(`issue otp: ${res.status} ${JSON.stringify(res.body)}`);
  const mail = await waitForMail(to, before.body.items[0]?.text);
  return codeIn(mail.text);
}
