/**
 * Task ids: UUIDv7 (RFC 9562), time-ordered and strictly increasing within this
 * process. Claim order is (priority, createdAt, id), and all tasks of one request
 * share createdAt, so ordered ids make siblings run in the order they were given.
 */
import { randomFillSync } from "node:crypto";

let lastMs = 0;
let counter = 0;

/**
 * Random bytes are drawn 4 KiB at a time (as crypto.randomUUID does): one call to
 * the system's generator per 256 ids instead of one per id, which was most of the
 * cost of planning a 10,000-task tree.
 */
const pool = Buffer.alloc(4096);
let poolOffset = pool.length;

function random16(): Buffer {
  if (poolOffset === pool.length) {
    randomFillSync(pool);
    poolOffset = 0;
  }
  const bytes = Buffer.from(pool.subarray(poolOffset, poolOffset + 16));
  poolOffset += 16;
  return bytes;
}

export function newId(): string {
  let ms = Date.now();
  if (ms <= lastMs) {
    // Same (or earlier) millisecond: bump a 12-bit counter; past it, borrow the next ms.
    counter++;
    if (counter > 0xfff) {
      lastMs++;
      counter = 0;
    }
    ms = lastMs;
  } else {
    lastMs = ms;
    counter = 0;
  }
  const bytes = random16();
  bytes.writeUIntBE(ms, 0, 6);
  bytes[6] = 0x70 | (counter >> 8);
  bytes[7] = counter & 0xff;
  bytes[8] = 0x80 | (bytes[8]! & 0x3f);
  const hex = bytes.toString("hex");
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}
