// The recipes' random ids (src/recipes/uuid.ts) come from Web Crypto, so they bundle for
// browsers; a browser page that is not a secure context (plain http from another host)
// has crypto.getRandomValues but no crypto.randomUUID.
import { afterEach, describe, expect, test } from 'vitest';
import { randomUUID } from '../../src/recipes/uuid.js';

const V4 = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

describe('recipe ids', () => {
  afterEach(() => {
    delete (globalThis.crypto as { randomUUID?: unknown }).randomUUID;
  });

  test('are version-4 UUIDs from crypto.randomUUID', () => {
    expect(randomUUID()).toMatch(V4);
  });

  test('without crypto.randomUUID (an insecure page) they are version-4 UUIDs from getRandomValues, all different', () => {
    // An own property hides the prototype's method, as an insecure context lacks it.
    Object.defineProperty(globalThis.crypto, 'randomUUID', { value: undefined, configurable: true });
    expect(typeof globalThis.crypto.randomUUID).toBe('undefined');
    const ids = Array.from({ length: 1000 }, () => randomUUID());
    for (const id of ids) expect(id).toMatch(V4);
    expect(new Set(ids).size).toBe(ids.length);
  });
});
