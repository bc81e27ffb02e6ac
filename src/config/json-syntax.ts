/**
 * Finds where a JSON text stops being JSON. V8's JSON.parse messages give no position for
 * some errors and quote the text around the error, which in a configuration file may be a
 * secret; this small scanner gives the offset of the first character that is wrong instead.
 */

const LITERAL = /true|false|null|-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?/y;
const ESCAPE = /\\(?:["\\/bfnrt]|u[0-9a-fA-F]{4})/y;

/** Offset of the first syntax error in `text`, or undefined when it is valid JSON. */
export function jsonErrorOffset(text: string): number | undefined {
  let at = 0;
  const fail = (): never => {
    throw new SyntaxAt(at);
  };
  const space = () => {
    while (at < text.length && " \t\n\r".includes(text[at]!)) at++;
  };
  const expect = (char: string) => {
    space();
    if (text[at] !== char) fail();
    at++;
  };
  const string = () => {
    if (text[at] !== '"') fail();
    at++;
    while (at < text.length && text[at] !== '"') {
      if (text[at] === "\\") {
        ESCAPE.lastIndex = at;
        if (!ESCAPE.test(text)) fail();
        at = ESCAPE.lastIndex;
      } else if (text[at]! < " ") fail();
      else at++;
    }
    if (at >= text.length) fail();
    at++;
  };
  const members = (close: string, member: () => void) => {
    at++;
    space();
    if (text[at] === close) {
      at++;
      return;
    }
    for (;;) {
      member();
      space();
      if (text[at] !== ",") break;
      at++;
    }
    expect(close);
  };
  const value = (): void => {
    space();
    const char = text[at];
    if (char === "{") {
      members("}", () => {
        space();
        string();
        expect(":");
        value();
      });
    } else if (char === "[") members("]", value);
    else if (char === '"') string();
    else {
      LITERAL.lastIndex = at;
      if (!LITERAL.test(text)) fail();
      at = LITERAL.lastIndex;
    }
  };
  try {
    value();
    space();
    if (at < text.length) fail();
    return undefined;
  } catch (error) {
    if (error instanceof SyntaxAt) return error.offset;
    throw error;
  }
}

class SyntaxAt {
  constructor(readonly offset: number) {}
}

/** 1-based line and column of an offset. */
export function lineAndColumn(text: string, offset: number): { line: number; column: number } {
  const before = text.slice(0, offset);
  const lineStart = before.lastIndexOf("\n") + 1;
  return { line: before.split("\n").length, column: offset - lineStart + 1 };
}
