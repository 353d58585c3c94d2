// Random ids for the recipes (protected-create GUIDs, participant and instance ids)
// from Web Crypto, which Node 20 and every browser have as globalThis.crypto: no
// node:crypto, so the recipes bundle for browsers.

const HEX = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, '0'));

/**
 * A random version-4 UUID. crypto.randomUUID where the platform has it; browsers offer
 * it only on secure pages (https://, http://localhost), so a page served over plain
 * http from another host gets one built from crypto.getRandomValues, which every page has.
 */
export function randomUUID(): string {
  const webCrypto = globalThis.crypto;
  if (typeof webCrypto.randomUUID === 'function') return webCrypto.randomUUID();
  const b = webCrypto.getRandomValues(new Uint8Array(16));
  b[6] = (b[6] & 0x0f) | 0x40; // version 4
  b[8] = (b[8] & 0x3f) | 0x80; // RFC 4122 variant
  const h = Array.from(b, (x) => HEX[x]);
  return `${h.slice(0, 4).join('')}-${h.slice(4, 6).join('')}-${h.slice(6, 8).join('')}-${h.slice(8, 10).join('')}-${h.slice(10).join('')}`;
}
