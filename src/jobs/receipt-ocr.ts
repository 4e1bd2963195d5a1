import type { JobContext } from "./context.ts";

// Placeholder while this session's helper builds it; replaced before the session ends.
export async function handleReceiptOcr(_ctx: JobContext, receiptId: string): Promise<void> {
  throw new Error(`not built yet: ${receiptId}`);
}
