// Only the part of node-zookeeper-client 1.1.3 the load generator and bench/scale use (it ships no types).
declare module 'node-zookeeper-client' {
  import type { EventEmitter } from 'node:events';

  export interface Exception extends Error {
    getCode(): number;
  }
  export interface Stat {
    readonly version: number;
  }
  export interface ZkEvent {
    readonly type: number;
    readonly path: string;
  }
  export interface ClientOptions {
    sessionTimeout?: number;
    spinDelay?: number;
    retries?: number;
  }
  export interface Transaction {
    create(path: string, data?: Buffer | null, mode?: number): Transaction;
    commit(callback: (error: Exception | null, results: unknown[]) => void): void;
  }
  export interface Client extends EventEmitter {
    connect(): void;
    close(): void;
    create(path: string, data: Buffer | null, mode: number, callback: (error: Exception | null, path: string) => void): void;
    remove(path: string, version: number, callback: (error: Exception | null) => void): void;
    setData(path: string, data: Buffer | null, version: number, callback: (error: Exception | null, stat: Stat) => void): void;
    getData(path: string, callback: (error: Exception | null, data: Buffer, stat: Stat) => void): void;
    getData(path: string, watcher: (event: ZkEvent) => void, callback: (error: Exception | null, data: Buffer, stat: Stat) => void): void;
    getChildren(path: string, callback: (error: Exception | null, children: string[], stat: Stat) => void): void;
    exists(path: string, watcher: (event: ZkEvent) => void, callback: (error: Exception | null, stat: Stat | null) => void): void;
    /** A multi: ops added with create(), sent with commit(). */
    transaction(): Transaction;
    /** SYNC_CONNECTED is code 3, EXPIRED -122. */
    getState(): { readonly name: string; readonly code: number };
  }

  const zookeeper: {
    createClient(connectionString: string, options?: ClientOptions): Client;
    readonly CreateMode: { readonly PERSISTENT: number; readonly EPHEMERAL_SEQUENTIAL: number };
    readonly Exception: { readonly NODE_EXISTS: number };
  };
  export default zookeeper;
}
