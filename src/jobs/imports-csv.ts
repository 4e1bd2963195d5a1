import type { JobContext } from "./context.ts";

// Placeholder while this session's helper builds it; replaced before the session ends.
export async function handleCsvImport(_ctx: JobContext, uploadId: string): Promise<void> {
  throw new Error(`not built yet: ${uploadId}`);
}
