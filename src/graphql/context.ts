/**
 * What every resolver can use. Built once per HTTP request or WebSocket
 * subscription, so its DataLoaders batch within one operation only.
 */
import type { Apflow } from "../apflow.js";
import type { PrismaClient } from "../generated/prisma/client.js";
import { createLoaders, type Loaders } from "./loaders.js";
import type { SharedLoaders } from "./shared-loaders.js";

export interface Context {
  apflow: Apflow;
  prisma: PrismaClient;
  loaders: Loaders;
  /** Batches across every subscriber at once (one query per event, not per subscriber). */
  shared: SharedLoaders;
  /** Values computed once per operation (e.g. the cluster's node list). */
  cache: Record<string, Promise<unknown> | number | undefined>;
}

export function createContext(apflow: Apflow, shared: SharedLoaders): Context {
  return { apflow, prisma: apflow.database.prisma, loaders: createLoaders(apflow.database.prisma), shared, cache: {} };
}
