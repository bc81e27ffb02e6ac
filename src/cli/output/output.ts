/**
 * Where the CLI writes. stdout carries the result only (a table, a tree, or with
 * `--json` exactly one JSON document, or JSON lines for streams); every diagnostic
 * goes to stderr, so `apflow ... --json | jq` always gets valid JSON.
 */
import { createStyle, type Style, wantsColor } from "./style.js";

export interface OutputOptions {
  json: boolean;
  noColor: boolean;
  stdout: NodeJS.WritableStream;
  stderr: NodeJS.WritableStream;
}

export class Output {
  readonly json: boolean;
  readonly style: Style;
  /** stderr's styles: errors are coloured when stderr is a colour terminal. */
  readonly errorStyle: Style;
  private readonly stdout: NodeJS.WritableStream;
  private readonly stderr: NodeJS.WritableStream;

  constructor(options: OutputOptions) {
    this.json = options.json;
    this.stdout = options.stdout;
    this.stderr = options.stderr;
    this.style = createStyle(!options.json && wantsColor(options.stdout, options.noColor));
    this.errorStyle = createStyle(wantsColor(options.stderr, options.noColor));
  }

  /** True when stdout is a terminal: live views redraw in place, wide cells are cut. */
  get interactive(): boolean {
    return (this.stdout as Partial<NodeJS.WriteStream>).isTTY === true && !this.json;
  }

  /** The terminal's width when interactive (undefined: lines are never cut). */
  get width(): number | undefined {
    // A pseudo-terminal may report 0 columns: assume the classic size then.
    return this.interactive ? (this.stdout as NodeJS.WriteStream).columns || 80 : undefined;
  }

  /** The terminal's height when interactive. */
  get height(): number | undefined {
    return this.interactive ? (this.stdout as NodeJS.WriteStream).rows || 24 : undefined;
  }

  /** A line of human output on stdout. */
  print(line = ""): void {
    this.stdout.write(`${line}\n`);
  }

  /** Raw text on stdout (terminal control sequences of the live view). */
  write(text: string): void {
    this.stdout.write(text);
  }

  /** The one JSON document of a command. */
  printJson(value: unknown): void {
    this.stdout.write(`${JSON.stringify(value, null, 2)}\n`);
  }

  /** One record of a JSON-lines stream. */
  printJsonLine(value: unknown): void {
    this.stdout.write(`${JSON.stringify(value)}\n`);
  }

  /** A diagnostic for people (progress notes, hints); on stderr, and only without --json. */
  note(message: string): void {
    if (!this.json) this.stderr.write(`${message}\n`);
  }

  /** A warning or error; on stderr, also with --json. */
  error(message: string): void {
    this.stderr.write(`${message}\n`);
  }
}
