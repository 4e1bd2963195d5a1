import { createRouter } from "../../http/app.ts";

/** CSV uploads of transactions and inventory, processed by the imports queue (issue 13). */
export const sellerImportRoutes = createRouter();
