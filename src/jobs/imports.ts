import { importMessage } from "../services/import-message.ts";
import type { JobContext } from "./context.ts";
import { handleCsvImport } from "./imports-csv.ts";
import { handleReceiptOcr } from "./receipt-ocr.ts";

/** The `imports` queue's consumer: one message per upload, routed by kind. */
export async function handleImport(ctx: JobContext, body: unknown): Promise<void> {
  const msg = importMessage.parse(body);
  if (msg.kind === "csv") await handleCsvImport(ctx, msg.uploadId);
  else await handleReceiptOcr(ctx, msg.receiptId);
}
