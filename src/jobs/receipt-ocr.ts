import { readReceipt } from "../services/receipts/read.ts";
import type { JobContext } from "./context.ts";

/** An `imports` message for a receipt: read its photo with OCR (src/services/receipts/read.ts). */
export async function handleReceiptOcr(ctx: JobContext, receiptId: string): Promise<void> {
  await readReceipt(ctx, receiptId);
}
