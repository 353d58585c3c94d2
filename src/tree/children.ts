// The child list of a node with many children. A node's children are kept sorted
// (paged listing, canonical snapshots). A plain sorted array is the most compact
// form and is used up to SMALL_CHILDREN_MAX; beyond, inserting a random name into
// one big array costs a memmove of the whole array (measured: 400k random-name
// children took 14 s), so the list becomes sorted chunks of at most CHUNK_MAX
// names: an insert or delete moves at most one chunk plus, on a split or merge,
// the chunk directory (n / 256 pointers).
import { lowerBound, upperBound } from './sorted.js';

export const SMALL_CHILDREN_MAX = 1024;
const CHUNK_MAX = 512;
const CHUNK_MIN = 128;

export class ChildList {
  /** Sorted, non-empty chunks; every name in chunk i is below every name in chunk i + 1. */
  private chunks: string[][];
  size: number;

  constructor(sorted: readonly string[]) {
    this.chunks = [];
    for (let i = 0; i < sorted.length; i += CHUNK_MAX / 2) this.chunks.push(sorted.slice(i, i + CHUNK_MAX / 2));
    this.size = sorted.length;
  }

  /** Index of the chunk that holds, or would hold, `path`. */
  private chunkFor(path: string): number {
    const chunks = this.chunks;
    let lo = 0;
    let hi = chunks.length - 1;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      const chunk = chunks[mid];
      if (chunk[chunk.length - 1] < path) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  /** Adds a path not present. */
  add(path: string): void {
    const at = this.chunkFor(path);
    const chunk = this.chunks[at];
    chunk.splice(lowerBound(chunk, path), 0, path);
    this.size++;
    if (chunk.length > CHUNK_MAX) this.chunks.splice(at + 1, 0, chunk.splice(CHUNK_MAX / 2));
  }

  remove(path: string): boolean {
    const at = this.chunkFor(path);
    const chunk = this.chunks[at];
    const i = lowerBound(chunk, path);
    if (i >= chunk.length || chunk[i] !== path) return false;
    chunk.splice(i, 1);
    this.size--;
    if (chunk.length === 0) {
      this.chunks.splice(at, 1);
    } else if (chunk.length < CHUNK_MIN && at + 1 < this.chunks.length && chunk.length + this.chunks[at + 1].length <= CHUNK_MAX) {
      // Merge with the next chunk so deletes cannot leave a directory of tiny chunks.
      this.chunks[at] = chunk.concat(this.chunks[at + 1]);
      this.chunks.splice(at + 1, 1);
    }
    return true;
  }

  toArray(): string[] {
    const out = new Array<string>(this.size);
    let n = 0;
    for (const chunk of this.chunks) for (const path of chunk) out[n++] = path;
    return out;
  }

  /** Up to `limit` paths after `after` (from the start if undefined), and whether more follow. */
  page(after: string | undefined, limit: number): { paths: string[]; more: boolean } {
    const chunks = this.chunks;
    let c = 0;
    let i = 0;
    if (after !== undefined) {
      // First chunk whose last path is > after; then the first path > after in it.
      let lo = 0;
      let hi = chunks.length;
      while (lo < hi) {
        const mid = (lo + hi) >>> 1;
        const chunk = chunks[mid];
        if (chunk[chunk.length - 1] <= after) lo = mid + 1;
        else hi = mid;
      }
      c = lo;
      if (c < chunks.length) i = upperBound(chunks[c], after);
    }
    const paths: string[] = [];
    for (; c < chunks.length; c++, i = 0) {
      const chunk = chunks[c];
      for (; i < chunk.length; i++) {
        if (paths.length === limit) return { paths, more: true };
        paths.push(chunk[i]);
      }
    }
    return { paths, more: false };
  }

  copy(): ChildList {
    const c = new ChildList([]);
    c.chunks = this.chunks.map((chunk) => chunk.slice());
    c.size = this.size;
    return c;
  }
}
