// Clocks around the Raft core for the metrics: the core (src/consensus) is a pure
// state machine with no time in it, so the host measures what takes time from the
// outside, where messages and proposals pass through it:
// - proposal to commit (leader): when a proposal was appended, and when the commit
//   index it reads after each step or durable batch first covers it;
// - peer round trip (leader): a Heartbeat handed to the transport for a follower,
//   and that follower's HeartbeatResponse stepped in (network, both sides' queues and
//   event loops: what a commit waits for);
// - snapshot build and install: start and end, and the image's size.
// Fixed memory (typed arrays), nothing allocated per proposal or message.
import { type Message, MessageType } from '../../consensus/index.js';

export interface HostObserver {
  proposalCommitted(seconds: number): void;
  peerRoundTrip(peer: number, seconds: number): void;
  snapshotBuilt(seconds: number, bytes: number): void;
  snapshotInstalled(seconds: number, bytes: number): void;
}

/** Proposals awaiting commit that are timed; past this many (a stalled quorum) new ones are not timed until the oldest commit. */
const MAX_TIMED_PROPOSALS = 65_536;

const now = (): number => performance.now();

export class HostTimings {
  /** Null: nobody listens, nothing is measured. */
  observer: HostObserver | null = null;
  private readonly proposedIndex = new Float64Array(MAX_TIMED_PROPOSALS);
  private readonly proposedAtMs = new Float64Array(MAX_TIMED_PROPOSALS);
  /** Ring of timed proposals: head is the oldest, count how many. */
  private head = 0;
  private count = 0;
  /** By peer id: when the Heartbeat now awaiting its response left (absent: none awaited). */
  private readonly heartbeatSentMs = new Map<number, number>();
  /** How long a Heartbeat may go unanswered before a newer one replaces it as the one timed. */
  private readonly heartbeatStaleMs: number;

  constructor(heartbeatIntervalMs: number) {
    this.heartbeatStaleMs = 4 * heartbeatIntervalMs;
  }

  /** A proposal appended to the leader's log at `index`. */
  proposed(index: number): void {
    if (this.observer === null || this.count === MAX_TIMED_PROPOSALS) return;
    const slot = (this.head + this.count) % MAX_TIMED_PROPOSALS;
    this.proposedIndex[slot] = index;
    this.proposedAtMs[slot] = now();
    this.count++;
  }

  /** The commit index as the core now knows it: every timed proposal at or below it is committed. */
  committed(commitIndex: number): void {
    if (this.count === 0 || this.proposedIndex[this.head] > commitIndex) return;
    const observer = this.observer;
    const t = now();
    while (this.count > 0 && this.proposedIndex[this.head] <= commitIndex) {
      observer?.proposalCommitted((t - this.proposedAtMs[this.head]) / 1000);
      this.head = (this.head + 1) % MAX_TIMED_PROPOSALS;
      this.count--;
    }
  }

  /** Leadership moved: proposals still timed may never commit (a new leader may overwrite them), and heartbeats stop. */
  roleChanged(): void {
    this.head = 0;
    this.count = 0;
    this.heartbeatSentMs.clear();
  }

  /** A message the host hands to the transport. */
  sent(message: Message): void {
    if (this.observer === null || message.type !== MessageType.Heartbeat) return;
    const t = now();
    const pending = this.heartbeatSentMs.get(message.to);
    if (pending === undefined || t - pending > this.heartbeatStaleMs) this.heartbeatSentMs.set(message.to, t);
  }

  /** A message from a peer, before the core steps it. */
  received(message: Message): void {
    if (message.type !== MessageType.HeartbeatResponse) return;
    const sentMs = this.heartbeatSentMs.get(message.from);
    if (sentMs === undefined) return;
    this.heartbeatSentMs.delete(message.from);
    this.observer?.peerRoundTrip(message.from, (now() - sentMs) / 1000);
  }

  /** Starts a clock: pass what it returns to snapshotBuilt or snapshotInstalled. */
  start(): number {
    return now();
  }

  snapshotBuilt(startedMs: number, bytes: number): void {
    this.observer?.snapshotBuilt((now() - startedMs) / 1000, bytes);
  }

  snapshotInstalled(startedMs: number, bytes: number): void {
    this.observer?.snapshotInstalled((now() - startedMs) / 1000, bytes);
  }
}
