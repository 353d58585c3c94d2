// Registering a service instance: an ephemeral node /services/<name>/<id> holding
// the instance as JSON, so it disappears when the instance's session ends.
import { randomUUID } from './uuid.js';
import { isZookError, type ZookClient } from '../client/index.js';
import { TypedEmitter } from './emitter.js';
import { HeldNode, type HoldEvents, type HoldState } from './held-node.js';
import { checkPath, ensurePath, joinPath, withLossRetry } from './paths.js';
import { checkServiceName, DEFAULT_SERVICES_ROOT, encodeInstance, type ServiceInstance } from './service-instance.js';

export interface RegisterOptions {
  readonly id?: string;
  readonly address: string;
  readonly weight?: number;
  readonly metadata?: Readonly<Record<string, unknown>>;
  /** Default '/services'. */
  readonly root?: string;
}

/** A live registration; events as for a lock: 'suspended', 'reconnected', 'lost' (then register again with a new client). */
export class ServiceRegistration extends TypedEmitter<HoldEvents> {
  constructor(
    private readonly zk: ZookClient,
    private readonly node: HeldNode,
    private instanceNow: ServiceInstance,
  ) {
    super();
    node.on('suspended', () => this.emit('suspended'));
    node.on('reconnected', () => this.emit('reconnected'));
    node.on('lost', (reason) => this.emit('lost', reason));
  }

  get path(): string {
    return this.node.path;
  }
  get instance(): ServiceInstance {
    return this.instanceNow;
  }
  get state(): HoldState {
    return this.node.state;
  }

  /** Changes address, weight or metadata; watchers see it as a data change. */
  async update(changes: Partial<Omit<ServiceInstance, 'id'>>): Promise<void> {
    const next: ServiceInstance = { ...this.instanceNow, ...changes, id: this.instanceNow.id };
    await withLossRetry(() => this.zk.setData(this.node.path, encodeInstance(next)));
    this.instanceNow = next;
  }

  /** Removes the instance (deletes its node). */
  unregister(): Promise<void> {
    return this.node.release();
  }
}

export async function registerService(zk: ZookClient, name: string, options: RegisterOptions): Promise<ServiceRegistration> {
  const dir = joinPath(checkPath(options.root ?? DEFAULT_SERVICES_ROOT), checkServiceName(name));
  const instance: ServiceInstance = { id: options.id ?? randomUUID(), address: options.address, weight: options.weight ?? 1, metadata: options.metadata ?? {} };
  if (!(Number.isFinite(instance.weight) && instance.weight >= 0)) throw new RangeError(`weight must be a finite number >= 0, got ${instance.weight}`);
  checkServiceName(instance.id);
  const path = joinPath(dir, instance.id);
  await ensurePath(zk, dir);
  try {
    await withLossRetry(() => zk.create(path, encodeInstance(instance), { mode: 'EPHEMERAL' }));
  } catch (error) {
    // After a ConnectionLoss the first attempt may have made the node: ours if our session owns it.
    if (!isZookError(error, 'NodeExists')) throw error;
    const stat = await withLossRetry(() => zk.exists(path));
    if (stat === null || stat.ephemeralOwner !== zk.sessionId) throw error;
  }
  return new ServiceRegistration(zk, new HeldNode(zk, path), instance);
}
