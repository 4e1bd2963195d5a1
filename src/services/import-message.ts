import { z } from "zod";

/** What the `imports` queue carries: which upload to work on, never the file itself (R2 has it). */
export const importMessage = z.discriminatedUnion("kind", [
  /** A CSV upload (transactions or inventory) to process, or its failed rows to retry. */
  z.object({ kind: z.literal("csv"), uploadId: z.uuid() }),
  /** A receipt photo to read with OCR. */
  z.object({ kind: z.literal("receipt"), receiptId: z.uuid() }),
]);
export type ImportMessage = z.infer<typeof importMessage>;

/** The `imports` queue's producer (`env.IMPORTS`). */
export interface ImportQueue {
  send(message: ImportMessage): Promise<unknown>;
}
