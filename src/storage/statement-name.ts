/**
 * The name a parameterized statement is prepared under, on PostgreSQL and on PGlite:
 * a hash of its text, so every connection of every node agrees on it, and the set
 * of names is bounded by the statements in this code.
 */
import { createHash } from "node:crypto";

const names = new Map<string, string>();

export function statementName(text: string): string {
  let name = names.get(text);
  if (!name) {
    name = `apflow_${createHash("sha1").update(text).digest("hex").slice(0, 16)}`;
    names.set(text, name);
  }
  return name;
}
