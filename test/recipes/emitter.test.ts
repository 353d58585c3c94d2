// The recipes' typed event emitter: delivery, once/off, a throwing listener does
// not starve the others, and unknown event names do not compile.
import { describe, expect, test } from 'vitest';
import { Lock, TypedEmitter, type ZookClient } from '../../src/index.js';

interface Events {
  ping: [n: number];
  done: [];
}
class Source extends TypedEmitter<Events> {
  fire<K extends keyof Events>(event: K, ...args: Events[K]): void {
    this.emit(event, ...args);
  }
}

describe('TypedEmitter', () => {
  test('delivers to every listener in order; once fires once; off removes', () => {
    const s = new Source();
    const seen: string[] = [];
    const a = (n: number): void => void seen.push(`a${n}`);
    s.on('ping', a);
    s.once('ping', (n) => seen.push(`once${n}`));
    s.fire('ping', 1);
    s.off('ping', a);
    s.fire('ping', 2);
    expect(seen).toEqual(['a1', 'once1']);
  });

  test('a throwing listener does not stop the others (its error is rethrown asynchronously)', async () => {
    const s = new Source();
    let reached = false;
    const thrown = new Promise<unknown>((resolve) => process.once('uncaughtException', resolve));
    s.on('done', () => {
      throw new Error('listener bug');
    });
    s.on('done', () => (reached = true));
    s.fire('done');
    expect(reached).toBe(true);
    expect(await thrown).toMatchObject({ message: 'listener bug' });
  });

  test('recipe events are typed: an unknown event name is a compile error', () => {
    const lock = new Lock({} as ZookClient, '/typed');
    // @ts-expect-error 'gone' is not a lock event
    lock.on('gone', () => undefined);
    lock.on('lost', (reason) => expect(['expired', 'closed', 'deleted']).toContain(reason));
  });
});
