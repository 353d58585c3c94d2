// Every limit the tree enforces, with its unit in its name. Replicas must share
// the same options: they decide what apply accepts.

export interface TreeOptions {
  /** Largest znode data, bytes (ZooKeeper's jute.maxbuffer default is about 1 MiB). */
  readonly maxDataBytes: number;
  /** Longest path, in UTF-8 bytes. */
  readonly maxPathBytes: number;
  /** Most ops in one multi or multiRead. */
  readonly maxMultiOps: number;
  /** Most entries in one ACL list. */
  readonly maxAclEntries: number;
  /** Largest `limit` of one page of getChildren, and its default when paging. */
  readonly maxChildrenPageSize: number;
  /** Longest TTL of a TTL node, ms (ZooKeeper: 2^40 - 1). */
  readonly maxTtlMs: number;
  /** Longest scheme or id in an ACL entry, bytes. */
  readonly maxAclIdBytes: number;
  /**
   * The super user's digest id, `super:base64(sha1("super:password"))`, or null for
   * none. A session holding it passes every ACL check.
   */
  readonly superDigest: string | null;
}

export const DEFAULT_TREE_OPTIONS: TreeOptions = {
  maxDataBytes: 1024 * 1024,
  maxPathBytes: 4096,
  maxMultiOps: 1000,
  maxAclEntries: 64,
  maxChildrenPageSize: 10_000,
  maxTtlMs: 2 ** 40 - 1,
  maxAclIdBytes: 1024,
  superDigest: null,
};

export function treeOptions(overrides: Partial<TreeOptions> = {}): TreeOptions {
  const options = { ...DEFAULT_TREE_OPTIONS, ...overrides };
  for (const key of ['maxDataBytes', 'maxPathBytes', 'maxMultiOps', 'maxAclEntries', 'maxChildrenPageSize', 'maxTtlMs', 'maxAclIdBytes'] as const) {
    const value = options[key];
    if (!Number.isSafeInteger(value) || value < 1) throw new RangeError(`${key} must be a positive integer, got ${value}`);
  }
  return options;
}
