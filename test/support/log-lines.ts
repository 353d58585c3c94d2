// Reading a server process's JSON log lines (src/util/log.ts) in tests.

export interface LogLine {
  readonly time: string;
  readonly level: string;
  readonly serverId: number;
  readonly component: string;
  readonly msg: string;
  readonly [field: string]: unknown;
}

/**
 * The JSON lines of a server's output. `strict`: every non-empty line must be one
 * (throws naming the first that is not); otherwise other lines (the cluster
 * harness's `--- start` markers, stderr) are skipped.
 */
export function logLines(output: string, options: { readonly strict?: boolean } = {}): LogLine[] {
  const lines: LogLine[] = [];
  for (const line of output.split('\n')) {
    if (line.trim() === '') continue;
    if (!line.startsWith('{')) {
      if (options.strict === true) throw new Error(`not a JSON log line: ${line}`);
      continue;
    }
    try {
      lines.push(JSON.parse(line) as LogLine);
    } catch {
      throw new Error(`not a JSON log line: ${line}`);
    }
  }
  return lines;
}
