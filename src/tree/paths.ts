// ZooKeeper's path rules (PathUtils.validatePath), reimplemented character for
// character, plus a byte-length limit. Measured facts in ZOOKEEPER-NOTES 4, 5, 8:
// "/..." and "/.x" are valid; exact "." / ".." components are not; any UTF-16
// surrogate (so every emoji) is invalid.

export const ROOT = '/';

/**
 * The UTF-8 length of `text`, as Buffer.byteLength(text, 'utf8') counts it (a lone
 * surrogate: 3 bytes, as its replacement character), without Buffer: the client also
 * runs in browsers.
 */
export function utf8ByteLength(text: string): number {
  let bytes = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c < 0x80) bytes += 1;
    else if (c < 0x800) bytes += 2;
    else if (c >= 0xd800 && c <= 0xdbff && i + 1 < text.length && (text.charCodeAt(i + 1) & 0xfc00) === 0xdc00) {
      bytes += 4;
      i++;
    } else bytes += 3;
  }
  return bytes;
}

/** True when `path` is a valid znode path of at most `maxPathBytes` UTF-8 bytes. */
export function isValidPath(path: string, maxPathBytes: number): boolean {
  const length = path.length;
  if (length === 0 || path.charCodeAt(0) !== 0x2f) return false;
  // A UTF-16 unit encodes to at most 3 UTF-8 bytes; only count when it could matter.
  if (length * 3 > maxPathBytes && utf8ByteLength(path) > maxPathBytes) return false;
  if (length === 1) return true;
  if (path.charCodeAt(length - 1) === 0x2f) return false;
  let last = 0x2f;
  for (let i = 1; i < length; i++) {
    const c = path.charCodeAt(i);
    if (c === 0) return false;
    if (c === 0x2f && last === 0x2f) return false; // empty component
    if (c === 0x2e) {
      const next = i + 1 === length ? 0x2f : path.charCodeAt(i + 1);
      if (next === 0x2f) {
        // "." or ".." as a whole component
        if (last === 0x2f) return false;
        if (last === 0x2e && path.charCodeAt(i - 2) === 0x2f) return false;
      }
    } else if (
      (c > 0x00 && c <= 0x1f) ||
      (c >= 0x7f && c <= 0x9f) ||
      (c >= 0xd800 && c <= 0xf8ff) ||
      c >= 0xfff0
    ) {
      return false;
    }
    last = c;
  }
  return true;
}

/**
 * Validity of the path a sequential create asks for: ZooKeeper validates
 * `path + "1"`, which is why `create("/p/", sequential)` is valid (NOTES 4).
 * `suffixBytes` is the 10 digits the name will gain.
 */
export function isValidSequentialPrefix(path: string, maxPathBytes: number): boolean {
  return isValidPath(path + '1', maxPathBytes - SEQUENCE_DIGITS + 1);
}

export const SEQUENCE_DIGITS = 10;

/** The name suffix of the `counter`-th child: 10 digits, zero-padded (ZooKeeper's %010d). */
export function sequenceSuffix(counter: number): string {
  // %010d of a negative int in Java gives "-000000001"; the counter never goes negative here.
  return String(counter).padStart(SEQUENCE_DIGITS, '0');
}

/** Parent of a valid non-root path. */
export function parentOf(path: string): string {
  const slash = path.lastIndexOf('/');
  return slash === 0 ? ROOT : path.slice(0, slash);
}

/** Last component of a valid non-root path. */
export function nameOf(path: string): string {
  return path.slice(path.lastIndexOf('/') + 1);
}
