// BenchClient over zook's own client.
import { connect, type ZookClient } from '../../src/client/index.js';
import { type BenchClient, type BenchCreateMode, BenchNodeExists } from './bench-client.js';

function translate(path: string, error: unknown): never {
  if ((error as { code?: string }).code === 'NodeExists') throw new BenchNodeExists(path);
  throw error;
}

export class ZookBenchClient implements BenchClient {
  private constructor(private readonly client: ZookClient) {}

  static async open(servers: readonly string[], sessionTimeoutMs: number, options: { shuffleServers?: boolean } = {}): Promise<ZookBenchClient> {
    return new ZookBenchClient(await connect(servers, { sessionTimeoutMs, ...options }));
  }

  create(path: string, data: Uint8Array, mode: BenchCreateMode = 'PERSISTENT'): Promise<string> {
    return this.client.create(path, data, { mode }).catch((e: unknown) => translate(path, e));
  }

  async setData(path: string, data: Uint8Array): Promise<void> {
    await this.client.setData(path, data);
  }

  async getData(path: string): Promise<Uint8Array> {
    return (await this.client.getData(path)).data;
  }

  async delete(path: string): Promise<void> {
    await this.client.delete(path);
  }

  getChildren(path: string): Promise<string[]> {
    return this.client.getChildren(path);
  }

  async existsWatch(path: string, onChange: () => void): Promise<boolean> {
    return (await this.client.exists(path, { watch: () => onChange() })) !== null;
  }

  close(): Promise<void> {
    return this.client.close();
  }
}
