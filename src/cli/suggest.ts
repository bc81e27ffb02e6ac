/** "Did you mean ...?" for mistyped commands and flags. */
import { editDistance } from "../core/edit-distance.js";

/** The candidate nearest to `typed` when it is close enough to be a typo, else undefined. */
export function closest(typed: string, candidates: readonly string[]): string | undefined {
  let best: { name: string; distance: number } | undefined;
  for (const name of candidates) {
    const distance = name.startsWith(typed) && typed.length >= 2 ? 0 : editDistance(typed, name);
    if (!best || distance < best.distance) best = { name, distance };
  }
  return best && best.distance <= Math.max(2, Math.floor(typed.length / 3)) ? best.name : undefined;
}
