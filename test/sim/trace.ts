// A bounded, readable trace of what the simulator did: the tail is printed on failure.

export class Trace {
  private readonly lines: string[] = [];
  private head = 0;
  total = 0;

  constructor(
    private readonly capacity: number,
    /** Also record every message and disk write (used when replaying a failure). */
    readonly verbose: boolean,
    /** Only record lines in this window of simulated time (to show the moments around a failure). */
    private readonly window: readonly [number, number] | null = null,
  ) {}

  add(time: number, text: string): void {
    if (this.window !== null && (time < this.window[0] || time > this.window[1]) && !text.startsWith('FAILURE')) return;
    const line = `t=${(time / 10).toFixed(1).padStart(7)} ${text}`;
    if (this.lines.length < this.capacity) this.lines.push(line);
    else {
      this.lines[this.head] = line;
      this.head = (this.head + 1) % this.capacity;
    }
    this.total++;
  }

  tail(n: number): string[] {
    const ordered = [...this.lines.slice(this.head), ...this.lines.slice(0, this.head)];
    return ordered.slice(Math.max(0, ordered.length - n));
  }
}
