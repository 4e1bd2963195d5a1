export * from "./addresses.ts";
export * from "./audit-log.ts";
export * from "./credentials.ts";
export * from "./jobs.ts";
export * from "./notifications.ts";
export * from "./refresh-tokens.ts";
export * from "./shops.ts";
export * from "./users.ts";
