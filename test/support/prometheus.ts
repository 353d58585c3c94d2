// A reader of Prometheus text exposition (format 0.0.4) for tests: every family's
// TYPE, and every sample with its labels, so a test can check the whole scrape.

export interface Sample {
  readonly name: string;
  readonly labels: Readonly<Record<string, string>>;
  readonly value: number;
}

export interface Exposition {
  /** Family name -> its TYPE (counter, gauge, histogram, summary, untyped). */
  readonly types: ReadonlyMap<string, string>;
  readonly samples: readonly Sample[];
}

const SAMPLE = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$/;
const LABEL = /([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g;

/** Parses a scrape; throws on a line that is neither a comment nor a sample. */
export function parseExposition(text: string): Exposition {
  const types = new Map<string, string>();
  const samples: Sample[] = [];
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('# HELP ')) continue;
    const type = /^# TYPE (\S+) (\S+)$/.exec(line);
    if (type !== null) {
      types.set(type[1], type[2]);
      continue;
    }
    const m = SAMPLE.exec(line);
    if (m === null) throw new Error(`not a Prometheus sample line: ${line}`);
    const labels: Record<string, string> = {};
    for (const l of (m[2] ?? '').matchAll(LABEL)) labels[l[1]] = l[2];
    samples.push({ name: m[1], labels, value: Number(m[3]) });
  }
  return { types, samples };
}

/** The family a sample belongs to: a histogram's _bucket, _sum and _count series are its family's. */
export function familyOf(e: Exposition, sampleName: string): string | undefined {
  if (e.types.has(sampleName)) return sampleName;
  const base = sampleName.replace(/_(bucket|sum|count)$/, '');
  return e.types.get(base) === 'histogram' || e.types.get(base) === 'summary' ? base : undefined;
}

/** Sum of the samples named `name` whose labels include `labels`. */
export function sumOf(e: Exposition, name: string, labels: Readonly<Record<string, string>> = {}): number {
  let sum = 0;
  for (const s of e.samples) if (s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v)) sum += s.value;
  return sum;
}

export async function scrape(port: number, scheme = 'http'): Promise<Exposition> {
  const res = await fetch(`${scheme}://127.0.0.1:${port}/metrics`, { signal: AbortSignal.timeout(5000) });
  if (!res.ok) throw new Error(`/metrics answered ${res.status}`);
  return parseExposition(await res.text());
}
