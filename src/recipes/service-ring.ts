// Client-side service discovery with consistent-hash load balancing: keeps the
// live instances of /services/<name> through a persistent recursive watch (joins,
// leaves and weight changes), and maps keys to instances with the WASM core's
// weighted rendezvous MemberRing, so a join or leave moves only the keys that
// instance gains or loses (about 1/N of them).
import type { MultiReadOp, ZookClient } from '../client/index.js';
import { MemberRing, MAX_PICK_N } from '../core/index.js';
import { TypedEmitter } from './emitter.js';
import { checkPath, joinPath, withLossRetry } from './paths.js';
import { checkServiceName, decodeInstance, DEFAULT_SERVICES_ROOT, type ServiceInstance } from './service-instance.js';
import { SubtreeFollower } from './subtree-follower.js';

/** Most instances read in one multiRead round trip. */
const READ_BATCH = 500;

export interface RingChange {
  readonly added: readonly ServiceInstance[];
  readonly removed: readonly ServiceInstance[];
  /** Instances whose address, weight or metadata changed. */
  readonly updated: readonly ServiceInstance[];
  readonly members: readonly ServiceInstance[];
}

export interface ServiceRingEvents {
  /** Membership (or an instance's data) changed; the ring already reflects it. */
  change: [change: RingChange];
  /** The session ended: membership is frozen at its last known state. */
  stopped: [reason: 'expired' | 'closed' | 'stopped'];
  /** An instance with unreadable data (it is left out), or a failed refresh. */
  error: [error: unknown];
}

export interface ServiceRingOptions {
  /** Default '/services'. */
  readonly root?: string;
}

export class ServiceRing extends TypedEmitter<ServiceRingEvents> {
  readonly dir: string;
  private readonly ring = new MemberRing();
  private readonly instances = new Map<string, ServiceInstance>();
  private readonly follower: SubtreeFollower;

  private constructor(
    private readonly zk: ZookClient,
    readonly service: string,
    options: ServiceRingOptions,
  ) {
    super();
    this.dir = joinPath(checkPath(options.root ?? DEFAULT_SERVICES_ROOT), checkServiceName(service));
    this.follower = new SubtreeFollower(zk, this.dir, {
      load: () => this.load(),
      stopped: (reason) => this.emit('stopped', reason),
      error: (error) => this.emit('error', error),
    });
  }

  /** Starts following /services/<service>; resolves once the first membership is loaded. */
  static async start(zk: ZookClient, service: string, options: ServiceRingOptions = {}): Promise<ServiceRing> {
    const ring = new ServiceRing(zk, service, options);
    await ring.follower.start();
    return ring;
  }

  get size(): number {
    return this.instances.size;
  }

  members(): ServiceInstance[] {
    return [...this.instances.values()].sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  }

  /** The instance that owns `key`, or undefined when none has weight > 0. */
  pick(key: string | Uint8Array): ServiceInstance | undefined {
    const id = this.ring.pick(key);
    return id === undefined ? undefined : this.instances.get(id);
  }

  /** Up to `n` distinct instances for `key`, best first (replicas). */
  pickN(key: string | Uint8Array, n: number): ServiceInstance[] {
    return this.ring.pickN(key, Math.min(n, MAX_PICK_N)).map((id) => this.instances.get(id)!);
  }

  /** Stops following and frees the ring's WASM memory. */
  async close(): Promise<void> {
    if (!this.follower.isRunning) return;
    await this.follower.close();
    this.ring.dispose();
    this.instances.clear();
  }

  /** Reads the instance list and their data, and applies the difference to the ring. */
  private async load(): Promise<void> {
    const ids = await withLossRetry(() => this.zk.getChildren(this.dir));
    const seen = new Map<string, ServiceInstance>();
    for (let i = 0; i < ids.length; i += READ_BATCH) {
      const batch = ids.slice(i, i + READ_BATCH);
      const ops: MultiReadOp[] = batch.map((id) => ({ op: 'getData', path: joinPath(this.dir, id) }));
      const results = await withLossRetry(() => this.zk.multiRead(ops));
      batch.forEach((id, j) => {
        const r = results[j];
        if (!('data' in r)) return; // gone since the list: it left
        try {
          seen.set(id, decodeInstance(id, r.data));
        } catch (error) {
          this.emit('error', error);
        }
      });
    }
    if (!this.follower.isRunning) return;
    const added: ServiceInstance[] = [];
    const removed: ServiceInstance[] = [];
    const updated: ServiceInstance[] = [];
    for (const [id, old] of this.instances) {
      if (!seen.has(id)) {
        removed.push(old);
        this.instances.delete(id);
        this.ring.delete(id);
      }
    }
    for (const [id, instance] of seen) {
      const old = this.instances.get(id);
      if (old === undefined) added.push(instance);
      else if (JSON.stringify(old) !== JSON.stringify(instance)) updated.push(instance);
      else continue;
      this.instances.set(id, instance);
      this.ring.set(id, instance.weight);
    }
    if (added.length + removed.length + updated.length > 0) this.emit('change', { added, removed, updated, members: this.members() });
  }
}
