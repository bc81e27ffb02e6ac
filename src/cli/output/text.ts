/**
 * Lines built from styled segments, so a line can be cut to the terminal's width
 * before the colour codes are added (cutting after would count invisible bytes or
 * split an escape sequence).
 */
import type { Style } from "./style.js";

export type Paint = keyof Omit<Style, "enabled">;

/** A piece of a line and how to paint it. */
export type Segment = readonly [text: string, paint?: Paint];

const ELLIPSIS = "…";

/** `text` cut to `width` characters, ending with an ellipsis when cut. */
export function truncate(text: string, width: number): string {
  if (text.length <= width) return text;
  if (width <= 0) return "";
  return `${text.slice(0, width - 1)}${ELLIPSIS}`;
}

/** Joins the segments, cut to `width` characters when given, then painted. */
export function renderLine(segments: readonly Segment[], style: Style, width?: number): string {
  let room = width ?? Number.POSITIVE_INFINITY;
  let line = "";
  for (const [text, paint] of segments) {
    if (room <= 0) break;
    const shown = text.length > room ? truncate(text, room) : text;
    room -= shown.length;
    line += paint && shown ? style[paint](shown) : shown;
  }
  return line;
}
