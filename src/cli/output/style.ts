/**
 * ANSI colours for human output. They are used only when stdout is a terminal that
 * supports them (Node's `hasColors()` honours NO_COLOR and FORCE_COLOR) and
 * `--no-color` is absent; otherwise every style returns its text unchanged.
 */
export interface Style {
  readonly enabled: boolean;
  bold(text: string): string;
  dim(text: string): string;
  red(text: string): string;
  green(text: string): string;
  yellow(text: string): string;
  cyan(text: string): string;
}

const sgr = (open: number, close: number) => (text: string) => `\u001b[${open}m${text}\u001b[${close}m`;
const plain = (text: string) => text;

export function createStyle(enabled: boolean): Style {
  if (!enabled) {
    return { enabled, bold: plain, dim: plain, red: plain, green: plain, yellow: plain, cyan: plain };
  }
  return {
    enabled,
    bold: sgr(1, 22),
    dim: sgr(2, 22),
    red: sgr(31, 39),
    green: sgr(32, 39),
    yellow: sgr(33, 39),
    cyan: sgr(36, 39),
  };
}

/** Whether `stream` should get colours: a terminal with colour support, unless turned off by flag. */
export function wantsColor(stream: NodeJS.WritableStream, noColorFlag: boolean): boolean {
  if (noColorFlag) return false;
  const tty = stream as Partial<NodeJS.WriteStream>;
  return tty.isTTY === true && typeof tty.hasColors === "function" && tty.hasColors();
}
