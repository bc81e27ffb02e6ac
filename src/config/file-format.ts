/**
 * A configuration file's text as a mapping of keys to values, in JSON or YAML (by extension).
 * Editing goes through the same object, so `apflow config set` keeps the file's format, its
 * other keys and, in YAML, its comments.
 */
import { Document, isMap, isScalar, LineCounter, parseDocument } from "yaml";
import { configError } from "./errors.js";
import { jsonErrorOffset, lineAndColumn } from "./json-syntax.js";

export type ConfigFormat = "json" | "yaml";

export interface ConfigDocument {
  /** The file's keys and values, as written. */
  values(): Record<string, unknown>;
  set(key: string, value: string | number | boolean): void;
  /** Removes the key; false when it was not there. */
  delete(key: string): boolean;
  toString(): string;
}

/** The format of a configuration file, from its extension. */
export function formatOf(path: string): ConfigFormat {
  if (/\.json$/i.test(path)) return "json";
  if (/\.ya?ml$/i.test(path)) return "yaml";
  throw configError(`Configuration file ${path} must end in .json, .yaml or .yml (the extension chooses the format).`);
}

/** Parses a file's text; a syntax error names the file, line and column. An empty file has no keys. */
export function parseConfigDocument(path: string, text: string): ConfigDocument {
  return formatOf(path) === "json" ? parseJson(path, text) : parseYaml(path, text);
}

/** A new document holding `values`; in YAML, `comments` go above their keys and `header` above all. */
export function newConfigDocument(
  format: ConfigFormat,
  values: Record<string, string | number | boolean>,
  comments: { header: string; keys: Record<string, string> },
): string {
  if (format === "json") return `${JSON.stringify(values, null, 2)}\n`;
  const doc = new Document(values);
  doc.commentBefore = comments.header;
  if (isMap(doc.contents)) {
    doc.contents.items.forEach((pair, index) => {
      if (!isScalar(pair.key)) return;
      const comment = comments.keys[String(pair.key.value)];
      if (comment) pair.key.commentBefore = ` ${comment}`;
      pair.key.spaceBefore = index > 0;
    });
  }
  return String(doc);
}

function parseJson(path: string, text: string): ConfigDocument {
  let values: Record<string, unknown> = {};
  if (text.trim() !== "") {
    const offset = jsonErrorOffset(text);
    if (offset !== undefined) {
      const found = offset < text.length ? `unexpected ${JSON.stringify(text[offset])}` : "unexpected end of file";
      throw syntaxError(path, "JSON", lineAndColumn(text, offset), found);
    }
    values = mapping(path, JSON.parse(text));
  }
  return {
    values: () => values,
    set: (key, value) => {
      values[key] = value;
    },
    delete: (key) => Object.hasOwn(values, key) && delete values[key],
    toString: () => `${JSON.stringify(values, null, 2)}\n`,
  };
}

function parseYaml(path: string, text: string): ConfigDocument {
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter, prettyErrors: false });
  const [error] = doc.errors;
  if (error) {
    const { line, col } = lineCounter.linePos(error.pos[0]);
    throw syntaxError(path, "YAML", { line, column: col }, error.message);
  }
  mapping(path, doc.toJS() ?? {});
  return {
    values: () => mapping(path, doc.toJS() ?? {}),
    set: (key, value) => doc.set(key, value),
    // An empty document has no mapping to delete from.
    delete: (key) => isMap(doc.contents) && doc.delete(key),
    toString: () => String(doc),
  };
}

function mapping(path: string, value: unknown): Record<string, unknown> {
  if (value !== null && typeof value === "object" && !Array.isArray(value)) return value as Record<string, unknown>;
  throw configError(
    `Configuration file ${path} must hold a mapping of setting keys to values (like \`port: 4000\`), not ${
      Array.isArray(value) ? "a list" : "a single value"
    }.`,
  );
}

function syntaxError(path: string, format: string, at: { line: number; column: number }, problem: string) {
  return configError(
    `Configuration file ${path} is not valid ${format} at line ${at.line}, column ${at.column}: ${problem}. Fix the file, or move it away to use the defaults.`,
  );
}
