import { api, type Problem } from "../../helpers/http.ts";
import { waitForMail } from "../../helpers/shop-support.ts";
import type { TestUser } from "../../helpers/users.ts";

export interface InvitationSent {
  id: string;
  sentTo: string;
  role: string;
  expiresAt: string;
}

/** `POST /v1/shops/{id}/staff` as `by`. */
export const invite = (by: TestUser, shopId: string, body: unknown) =>
  api<InvitationSent & Problem & { limit?: string }>("POST", `/v1/shops/${shopId}/staff`, {
    token: by.accessToken,
    body,
  });

/** `POST /v1/staff-invitations/accept` (or `/decline`) as `by`. */
export const answer = (by: TestUser, token: string, verb: "accept" | "decline" = "accept") =>
  api<{ shopId: string; shopName: string; role: string; joinedAt: string } & Problem>(
    "POST",
    `/v1/staff-invitations/${verb}`,
    { token: by.accessToken, body: { token } },
  );

/** Reads the token out of the newest invitation email to `email` (other than `notText`'s). */
export async function invitationToken(email: string, notText?: string): Promise<string> {
  const mail = await waitForMail(email, notText);
  const m = /Invitation token: ([A-Za-z0-9_-]{43})/.exec(mail.text);
  if (!m?.[1]) throw new Error(`no invitation token in: ${mail.text}`);
  return m[1];
}

/** The owner invites `user`, who accepts through the API: the only way onto a team now. */
export async function inviteAndAccept(
  owner: TestUser,
  shopId: string,
  user: TestUser,
  role: "manager" | "staff",
): Promise<void> {
  const sent = await invite(owner, shopId, { email: user.email, role });
  if (sent.status !== 202) throw new Error(`invite: ${sent.status} ${JSON.stringify(sent.body)}`);
  const joined = await answer(user, await invitationToken(user.email));
  if (joined.status !== 200) {
    throw new Error(`accept: ${joined.status} ${JSON.stringify(joined.body)}`);
  }
}
