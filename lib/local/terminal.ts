/**
 * Output of `npm start`: our lines, a live panel redrawn in place on a TTY, and everything
 * else the process writes (the consumer's logs, SDK warnings) routed inline above the panel,
 * to a log file, or nowhere — so the panel is never torn by interleaved writes.
 */
import { createWriteStream, mkdirSync, type WriteStream } from 'node:fs';
import { dirname } from 'node:path';

export type ConsumerLogs = 'inline' | 'file' | 'off';

export interface TerminalOptions {
  /** Redraw a panel in place (a TTY). */
  readonly live: boolean;
  readonly consumerLogs: ConsumerLogs;
  /** Where consumer output goes with consumerLogs 'file'. */
  readonly logFile?: string;
}

type Write = typeof process.stdout.write;

const ANSI = /\u001b\[[0-9;]*[A-Za-z]/g;

export class Terminal {
  private readonly out: Write;
  private readonly err: Write;
  private panel: string[] = [];
  private drawnRows = 0;
  private file: WriteStream | undefined;
  private installed = false;
  private pending = '';

  constructor(private readonly options: TerminalOptions) {
    this.out = process.stdout.write.bind(process.stdout) as Write;
    this.err = process.stderr.write.bind(process.stderr) as Write;
  }

  /** Routes every other write to stdout/stderr per `consumerLogs`. */
  install(): void {
    if (this.installed) return;
    this.installed = true;
    if (this.options.consumerLogs === 'file' && this.options.logFile) {
      mkdirSync(dirname(this.options.logFile), { recursive: true });
      this.file = createWriteStream(this.options.logFile, { flags: 'a' });
    }
    const capture = ((chunk: string | Uint8Array, encoding?: unknown, callback?: unknown) => {
      const text = typeof chunk === 'string' ? chunk : Buffer.from(chunk).toString(typeof encoding === 'string' ? (encoding as BufferEncoding) : 'utf8');
      this.route(text);
      const cb = typeof encoding === 'function' ? encoding : callback;
      if (typeof cb === 'function') (cb as () => void)();
      return true;
    }) as Write;
    process.stdout.write = capture;
    process.stderr.write = capture;
  }

  private route(text: string): void {
    switch (this.options.consumerLogs) {
      case 'off':
        return;
      case 'file':
        this.file?.write(text);
        return;
      case 'inline': {
        this.pending += text;
        const lines = this.pending.split('\n');
        this.pending = lines.pop() ?? '';
        for (const line of lines) this.print(line);
      }
    }
  }

  /** Prints a line of ours (above the panel on a TTY). */
  print(line: string): void {
    if (this.options.live) {
      this.clearPanel();
      this.out(`${line}\n`);
      this.drawPanel();
    } else {
      this.out(`${line}\n`);
    }
  }

  error(line: string): void {
    if (this.options.live) this.print(line);
    else this.err(`${line}\n`);
  }

  /** Replaces the panel (drawn only on a TTY). */
  setPanel(lines: string[]): void {
    if (!this.options.live) return;
    this.clearPanel();
    this.panel = lines;
    this.drawPanel();
  }

  private clearPanel(): void {
    if (this.drawnRows > 0) this.out(`\u001b[${this.drawnRows}A\u001b[0J`);
    this.drawnRows = 0;
  }

  private drawPanel(): void {
    if (this.panel.length === 0) return;
    const columns = process.stdout.columns || 80;
    this.out(`${this.panel.join('\n')}\n`);
    this.drawnRows = this.panel.reduce((rows, line) => rows + Math.max(1, Math.ceil(line.replace(ANSI, '').length / columns)), 0);
  }

  /** Leaves the last panel on screen and gives stdout/stderr back. */
  async close(): Promise<void> {
    if (this.installed) {
      process.stdout.write = this.out;
      process.stderr.write = this.err;
      this.installed = false;
    }
    if (this.pending) this.out(`${this.pending}\n`);
    this.pending = '';
    this.drawnRows = 0;
    const file = this.file;
    this.file = undefined;
    if (file) await new Promise<void>((resolve) => file.end(() => resolve()));
  }
}
