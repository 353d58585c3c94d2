// What a service instance publishes about itself: the JSON data of its ephemeral
// node under /services/<name>/<id>.
export interface ServiceInstance {
  /** The node name under the service; unique per instance. */
  readonly id: string;
  /** Where to reach it, e.g. '10.0.0.1:8080'. */
  readonly address: string;
  /** Share of keys relative to the others (> 0; 0 = listed but never picked). Default 1. */
  readonly weight: number;
  readonly metadata: Readonly<Record<string, unknown>>;
}

export const DEFAULT_SERVICES_ROOT = '/services';

export function encodeInstance(instance: ServiceInstance): string {
  return JSON.stringify({ address: instance.address, weight: instance.weight, metadata: instance.metadata });
}

/** Parses a node's data; throws on anything that is not a well-formed instance. */
export function decodeInstance(id: string, data: Uint8Array): ServiceInstance {
  const value: unknown = JSON.parse(new TextDecoder().decode(data));
  if (typeof value !== 'object' || value === null) throw new TypeError(`service instance ${id}: data is not a JSON object`);
  const { address, weight, metadata } = value as Record<string, unknown>;
  if (typeof address !== 'string') throw new TypeError(`service instance ${id}: address must be a string`);
  const w = weight === undefined ? 1 : weight;
  if (typeof w !== 'number' || !Number.isFinite(w) || w < 0) throw new TypeError(`service instance ${id}: weight must be a finite number >= 0`);
  const meta = metadata === undefined ? {} : metadata;
  if (typeof meta !== 'object' || meta === null || Array.isArray(meta)) throw new TypeError(`service instance ${id}: metadata must be an object`);
  return { id, address, weight: w, metadata: meta as Record<string, unknown> };
}

export function checkServiceName(name: string): string {
  if (name === '' || name.includes('/') || name === '.' || name === '..') throw new TypeError(`bad service name "${name}"`);
  return name;
}
