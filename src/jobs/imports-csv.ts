import { processUpload } from "../services/uploads/process.ts";
import type { JobContext } from "./context.ts";

/** A CSV upload's run (first or a retry of its failed rows): the service does the work. */
export async function handleCsvImport(ctx: JobContext, uploadId: string): Promise<void> {
  await processUpload(ctx, uploadId);
}
