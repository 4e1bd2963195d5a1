import type { TestProject } from "vitest/node";
import { startStack } from "../scripts/stack/stack.ts";

declare module "vitest" {
  export interface ProvidedContext {
    /** A fresh database for this run (or embedded PGlite), migrations applied. */
    databaseUrl: string;
    /** `127.0.0.1:PORT` of the WebSocket bridge the Neon driver goes through. */
    neonLocalWsProxy: string;
    /** Upstash REST bridge URL and token; both empty when no Redis answered. */
    redisRestUrl: string;
    redisRestToken: string;
  }
}

/** Starts the local stack once per run and hands its addresses to the Worker's bindings. */
export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const stack = await startStack({ mode: "test" });
  project.provide("databaseUrl", stack.databaseUrl);
  project.provide("neonLocalWsProxy", stack.neonLocalWsProxy);
  project.provide("redisRestUrl", stack.redisRest?.url ?? "");
  project.provide("redisRestToken", stack.redisRest?.token ?? "");
  return () => stack.stop();
}
