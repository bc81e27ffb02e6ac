import { systemClock } from "../../src/core/clock.js";
import { MemoryTaskStore } from "../../src/storage/memory-store.js";
import { defineEngineContract } from "../support/engine-contract.js";

defineEngineContract("the memory store", () => ({ open: async () => new MemoryTaskStore(systemClock) }));
