// BenchClient over node-zookeeper-client, for Apache ZooKeeper targets. The
// callbacks become promises; unversioned writes use version -1 as zkCli does.
import zookeeper, { type Client, type Exception } from 'node-zookeeper-client';
import { type BenchClient, type BenchCreateMode, BenchNodeExists } from './bench-client.js';

function settle<T>(path: string, resolve: (value: T) => void, reject: (error: unknown) => void) {
  return (error: Exception | null, value: T): void => {
    if (error === null) resolve(value);
    else if (error.getCode() === zookeeper.Exception.NODE_EXISTS) reject(new BenchNodeExists(path));
    else reject(error);
  };
}

export class ZooKeeperBenchClient implements BenchClient {
  private constructor(private readonly client: Client) {}

  /** `connectString` as ZooKeeper takes it: host:port[,host:port...]. */
  static open(connectString: string, sessionTimeoutMs: number): Promise<ZooKeeperBenchClient> {
    const client = zookeeper.createClient(connectString, { sessionTimeout: sessionTimeoutMs, retries: 3 });
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        client.close();
        reject(new Error(`no ZooKeeper session with ${connectString} within 15 s`));
      }, 15_000);
      client.once('connected', () => {
        clearTimeout(timer);
        resolve(new ZooKeeperBenchClient(client));
      });
      client.connect();
    });
  }

  create(path: string, data: Uint8Array, mode: BenchCreateMode = 'PERSISTENT'): Promise<string> {
    const zkMode = mode === 'PERSISTENT' ? zookeeper.CreateMode.PERSISTENT : zookeeper.CreateMode.EPHEMERAL_SEQUENTIAL;
    return new Promise((resolve, reject) => this.client.create(path, Buffer.from(data), zkMode, settle(path, resolve, reject)));
  }

  setData(path: string, data: Uint8Array): Promise<void> {
    return new Promise((resolve, reject) => this.client.setData(path, Buffer.from(data), -1, settle(path, () => resolve(), reject)));
  }

  getData(path: string): Promise<Uint8Array> {
    return new Promise((resolve, reject) => this.client.getData(path, settle(path, resolve, reject)));
  }

  delete(path: string): Promise<void> {
    return new Promise((resolve, reject) => this.client.remove(path, -1, (error) => (error === null ? resolve() : reject(error))));
  }

  getChildren(path: string): Promise<string[]> {
    return new Promise((resolve, reject) => this.client.getChildren(path, settle(path, resolve, reject)));
  }

  existsWatch(path: string, onChange: () => void): Promise<boolean> {
    return new Promise((resolve, reject) =>
      this.client.exists(path, () => onChange(), settle(path, (stat: unknown) => resolve(stat !== null), reject)),
    );
  }

  /** Ends the session; the library gives no completion callback, so wait for the disconnect (at most 2 s). */
  close(): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(resolve, 2000);
      this.client.once('disconnected', () => {
        clearTimeout(timer);
        resolve();
      });
      this.client.close();
    });
  }
}
