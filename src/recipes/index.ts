// zook's recipes, built on the public client API only: locks, a semaphore, leader
// election, barriers, a consistent configuration watcher, a queue, a counter and
// service discovery with consistent-hash load balancing.
export { TypedEmitter } from './emitter.js';
export type { EventMap } from './emitter.js';
export type { WaitOptions } from './wake.js';
export type { HoldState, HoldEvents, LossReason } from './held-node.js';
export { Lock, OrderedLock } from './lock.js';
export type { LockState, LockEvents, LockOptions } from './lock.js';
export { ReadWriteLock } from './read-write-lock.js';
export { Semaphore, Lease } from './semaphore.js';
export type { SemaphoreOptions } from './semaphore.js';
export { LeaderLatch } from './leader-latch.js';
export type { LatchState, LeaderLatchEvents, LeaderLatchOptions } from './leader-latch.js';
export { Barrier } from './barrier.js';
export { DoubleBarrier } from './double-barrier.js';
export type { DoubleBarrierOptions } from './double-barrier.js';
export { ConfigWatcher, ConfigSnapshot } from './config-watcher.js';
export type { ConfigEntry, ConfigChanges, ConfigWatcherEvents, ConfigWatcherOptions } from './config-watcher.js';
export { DistributedQueue } from './queue.js';
export { AtomicCounter } from './counter.js';
export type { CounterOptions } from './counter.js';
export { registerService, ServiceRegistration } from './service-registration.js';
export type { RegisterOptions } from './service-registration.js';
export { ServiceRing } from './service-ring.js';
export type { RingChange, ServiceRingEvents, ServiceRingOptions } from './service-ring.js';
export { DEFAULT_SERVICES_ROOT } from './service-instance.js';
export type { ServiceInstance } from './service-instance.js';
