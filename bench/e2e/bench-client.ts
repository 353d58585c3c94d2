// The few calls the workloads make, so W1-W4 are written once and run against
// zook (its own client) or Apache ZooKeeper (node-zookeeper-client) alike.
export type BenchCreateMode = 'PERSISTENT' | 'EPHEMERAL_SEQUENTIAL';

export interface BenchClient {
  /** Returns the created path; rejects with a BenchNodeExists when the node is there. */
  create(path: string, data: Uint8Array, mode?: BenchCreateMode): Promise<string>;
  setData(path: string, data: Uint8Array): Promise<void>;
  getData(path: string): Promise<Uint8Array>;
  delete(path: string): Promise<void>;
  getChildren(path: string): Promise<string[]>;
  /** True if the node exists; `onChange` fires once when it is created, changed or deleted. */
  existsWatch(path: string, onChange: () => void): Promise<boolean>;
  close(): Promise<void>;
}

/** The one error the workloads branch on, the same whichever server answered. */
export class BenchNodeExists extends Error {
  readonly code = 'NodeExists';
  constructor(path: string) {
    super(`node exists: ${path}`);
  }
}
