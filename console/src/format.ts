// Small pure helpers of the console (paths, bytes, permissions, errors).

const decoder = new TextDecoder('utf-8', { fatal: false });

export function joinPath(parent: string, name: string): string {
  return parent === '/' ? `/${name}` : `${parent}/${name}`;
}

export function parentOf(path: string): string {
  const i = path.lastIndexOf('/');
  return i <= 0 ? '/' : path.slice(0, i);
}

export function textOf(data: Uint8Array): string {
  return decoder.decode(data);
}

/** 16 bytes a line: offset, hex, printable ASCII. */
export function hex(data: Uint8Array): string {
  const lines: string[] = [];
  for (let off = 0; off < data.length; off += 16) {
    const row = data.subarray(off, off + 16);
    const h = [...row].map((b) => b.toString(16).padStart(2, '0')).join(' ');
    const a = [...row].map((b) => (b >= 0x20 && b < 0x7f ? String.fromCharCode(b) : '.')).join('');
    lines.push(`${off.toString(16).padStart(8, '0')}  ${h.padEnd(47)}  ${a}`);
  }
  return lines.length === 0 ? '(empty)' : lines.join('\n');
}

/** ZooKeeper's perms as the letters zkCli prints: c(reate) d(elete) r(ead) w(rite) a(dmin). */
export function permString(perms: number): string {
  const letters: Array<[number, string]> = [
    [4, 'c'],
    [8, 'd'],
    [1, 'r'],
    [2, 'w'],
    [16, 'a'],
  ];
  return letters.map(([bit, l]) => ((perms & bit) !== 0 ? l : '')).join('') || '(none)';
}

export function describeError(e: unknown): string {
  if (e instanceof Error) {
    const code = (e as { code?: unknown }).code;
    return typeof code === 'string' ? `${code}: ${e.message}` : e.message;
  }
  return String(e);
}
