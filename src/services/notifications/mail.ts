import type { Config } from "../../env.ts";

export interface OutgoingMessage {
  /** The notification's dedupeKey: the provider's idempotency key too. */
  dedupeKey: string;
  channel: "email" | "sms";
  to: string;
  subject: string;
  text: string;
}

/** Where an email (or SMS) goes. One real provider (Resend) and the local dev mailbox. */
export interface MailSender {
  readonly transport: "resend" | "dev-mailbox";
  /**
   * Whether the ledger row keeps the body. Only the dev mailbox does: it is how a developer
   * reads a code locally; a real provider's row keeps no body, so no code is stored in clear.
   */
  readonly keepsBody: boolean;
  /** Hands the message over; throws when it was not accepted, so the queue retries. */
  send(msg: OutgoingMessage): Promise<{ providerMessageId: string | null }>;
}

export class MailSendError extends Error {
  override name = "MailSendError";
}

const RESEND_URL = "https://api.resend.com/emails";

/**
 * Resend's HTTP API. The Idempotency-Key makes a retried send (after a crash between the send
 * and our ledger write) a no-op on Resend's side for 24 hours.
 */
export function resendSender(
  apiKey: string,
  from: string,
  fetcher: typeof fetch = fetch,
): MailSender {
  return {
    transport: "resend",
    keepsBody: false,
    async send(msg) {
      const res = await fetcher(RESEND_URL, {
        method: "POST",
        headers: {
          authorization: `Bearer ${apiKey}`,
          "content-type": "application/json",
          "idempotency-key": `${msg.channel}/${msg.dedupeKey}`,
        },
        body: JSON.stringify({ from, to: [msg.to], subject: msg.subject, text: msg.text }),
      });
      if (!res.ok) {
        const detail = (await res.text()).slice(0, 300);
        throw new MailSendError(`Resend answered ${res.status}: ${detail}`);
      }
      const data: unknown = await res.json().catch(() => null);
      const id =
        data && typeof data === "object" && "id" in data && typeof data.id === "string"
          ? data.id
          : null;
      return { providerMessageId: id };
    },
  };
}

/**
 * The local mailbox: delivering is writing the ledger row with its body (see deliver.ts), which
 * GET /dev/mailbox lists. Also where SMS goes, since no SMS provider is wired yet.
 */
export const devMailbox: MailSender = {
  transport: "dev-mailbox",
  keepsBody: true,
  async send() {
    return { providerMessageId: null };
  },
};

/** Resend when RESEND_API_KEY is set, otherwise the dev mailbox. */
export function createMailSender(config: Config, fetcher?: typeof fetch): MailSender {
  return config.RESEND_API_KEY
    ? resendSender(config.RESEND_API_KEY, config.MAIL_FROM, fetcher)
    : devMailbox;
}
