import { describe, expect, it } from "vitest";
import { jsonErrorOffset, lineAndColumn } from "../../src/config/json-syntax.js";

describe("jsonErrorOffset", () => {
  it("accepts what JSON.parse accepts", () => {
    for (const text of ['{"a": [1, -2.5e-3, true, false, null, "x\\u00e9\\n"], "b": {}}', " [] ", '"s"', "0"]) {
      expect(() => JSON.parse(text)).not.toThrow();
      expect(jsonErrorOffset(text), text).toBeUndefined();
    }
  });

  it("points at the first character that is wrong", () => {
    const cases: [string, number][] = [
      ['{"a": }', 6],
      ['{"a": 1,}', 8],
      ['{"a": 1 "b": 2}', 8],
      ['{"a": "x', 8],
      ['{"a": "\\q"}', 7],
      ["[01]", 2],
      ["{} x", 3],
      ["{'a': 1}", 1],
    ];
    for (const [text, offset] of cases) {
      expect(() => JSON.parse(text)).toThrow();
      expect(jsonErrorOffset(text), text).toBe(offset);
    }
  });

  it("turns an offset into a 1-based line and column", () => {
    expect(lineAndColumn('{\n  "a": }', 9)).toEqual({ line: 2, column: 8 });
    expect(lineAndColumn("x", 0)).toEqual({ line: 1, column: 1 });
  });
});
