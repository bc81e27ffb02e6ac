/**
 * Aligned tables for human output. On a terminal, a table wider than the screen
 * has its widest shrinkable columns cut (with an ellipsis) until it fits; piped
 * output is never cut, so nothing is lost for grep.
 */
import type { Style } from "./style.js";
import { type Paint, renderLine, type Segment, truncate } from "./text.js";

export interface Column<Row> {
  header: string;
  value(row: Row): string;
  /** Colour of a cell, from its row. */
  paint?(row: Row): Paint | undefined;
  align?: "left" | "right";
  /** May be cut to fit the terminal (long free text: names, descriptions, values). */
  shrink?: boolean;
}

const GAP = "  ";
/** A shrinkable column keeps at least this many characters (or its header's length). */
const MIN_WIDTH = 8;

export function renderTable<Row>(columns: Column<Row>[], rows: Row[], style: Style, width?: number): string[] {
  const cells = rows.map((row) => columns.map((column) => column.value(row).replace(/\s*\n\s*/g, " ")));
  const widths = columns.map((column, i) => Math.max(column.header.length, ...cells.map((r) => r[i]!.length)));
  if (width !== undefined) shrinkToWidth(columns, widths, width);
  const line = (texts: string[], paints: (Paint | undefined)[]) => {
    const segments: Segment[] = [];
    texts.forEach((text, i) => {
      const cut = truncate(text, widths[i]!);
      const pad = " ".repeat(widths[i]! - cut.length);
      const last = i === texts.length - 1;
      if (i > 0) segments.push([GAP]);
      if (columns[i]!.align === "right") segments.push([pad], [cut, paints[i]]);
      else segments.push([cut, paints[i]], [last ? "" : pad]);
    });
    return renderLine(segments, style);
  };
  return [
    line(
      columns.map((c) => c.header),
      columns.map(() => "bold"),
    ),
    ...cells.map((texts, r) =>
      line(
        texts,
        columns.map((c) => c.paint?.(rows[r]!)),
      ),
    ),
  ];
}

/** Narrows the widest shrinkable columns, one character at a time, until the table fits `width`. */
function shrinkToWidth<Row>(columns: Column<Row>[], widths: number[], width: number): void {
  const total = () => widths.reduce((sum, w) => sum + w, 0) + GAP.length * (widths.length - 1);
  const floor = (i: number) => Math.max(MIN_WIDTH, columns[i]!.header.length);
  while (total() > width) {
    let widest = -1;
    widths.forEach((w, i) => {
      if (columns[i]!.shrink && w > floor(i) && (widest === -1 || w > widths[widest]!)) widest = i;
    });
    if (widest === -1) return; // nothing left to shrink: the terminal wraps
    widths[widest] = widths[widest]! - 1;
  }
}
