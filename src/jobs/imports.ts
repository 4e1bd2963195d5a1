import { z } from "zod";
import type { JobContext } from "./context.ts";
import { handleCsvImport } from "./imports-csv.ts";
import { handleReceiptOcr } from "./receipt-ocr.ts";

/** What the `imports` queue carries: which upload to work on, never the file itself (R2 has it). */
export const importMessage = z.discriminatedUnion("kind", [
  /** A CSV upload (transactions or inventory) to process, or its failed rows to retry. */
  z.object({ kind: z.literal("csv"), uploadId: z.string().uuid() }),
  /** A receipt photo to read with OCR. */
  z.object({ kind: z.literal("receipt"), receiptId: z.string().uuid() }),
]);
export type ImportMessage = z.infer<typeof importMessage>;

/** The `imports` queue's consumer: one message per upload, routed by kind. */
export async function handleImport(ctx: JobContext, body: unknown): Promise<void> {
  const msg = importMessage.parse(body);
  if (msg.kind === "csv") await handleCsvImport(ctx, msg.uploadId);
  else await handleReceiptOcr(ctx, msg.receiptId);
}
