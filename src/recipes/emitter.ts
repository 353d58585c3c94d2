// A small typed event emitter: recipes report state changes (lock lost, leader
// gained, membership changed) as events whose payloads the compiler checks.
/** Event name -> listener arguments. Interfaces qualify without an index signature, so a misspelt event name does not compile. */
export type EventMap<E> = { [K in keyof E]: readonly unknown[] };
type Listener<A extends readonly unknown[]> = (...args: A) => void;

export class TypedEmitter<E extends EventMap<E>> {
  private readonly listeners = new Map<keyof E, Set<Listener<readonly unknown[]>>>();

  on<K extends keyof E>(event: K, listener: Listener<E[K]>): this {
    let set = this.listeners.get(event);
    if (set === undefined) this.listeners.set(event, (set = new Set()));
    set.add(listener as Listener<readonly unknown[]>);
    return this;
  }

  off<K extends keyof E>(event: K, listener: Listener<E[K]>): this {
    this.listeners.get(event)?.delete(listener as Listener<readonly unknown[]>);
    return this;
  }

  once<K extends keyof E>(event: K, listener: Listener<E[K]>): this {
    const wrapped = (...args: E[K]): void => {
      this.off(event, wrapped);
      listener(...args);
    };
    return this.on(event, wrapped);
  }

  protected emit<K extends keyof E>(event: K, ...args: E[K]): void {
    for (const listener of [...(this.listeners.get(event) ?? [])]) {
      // A throwing listener must not break the recipe's own bookkeeping.
      try {
        listener(...args);
      } catch (error) {
        queueMicrotask(() => {
          throw error;
        });
      }
    }
  }
}
