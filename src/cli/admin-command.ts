// `zook admin`: operator commands against a running ensemble, over each server's
// HTTP endpoints on its client port (src/server/admin-http.ts). Reads the
// ensemble file for the addresses and derives the admin token from its secret.
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { httpRequest } from '../util/http-request.js';
import { ADMIN_TOKEN_HEADER, adminToken } from '../server/admin-http.js';
import { readEnsembleFile, type Ensemble, type EnsembleServer } from '../server/cluster/ensemble.js';
import type { NodeStatus } from '../server/node-status.js';

export const ADMIN_USAGE = `zook admin <command> --config <ensemble.json> [--json] [--tls-ca <file>]
  --tls-ca <file>        talk https, verifying the servers against this PEM CA (default:
                         https when the ensemble file sets tlsCertFile or tlsCaFile,
                         verified with its tlsCaFile)
  status                 every server's role, term, leader, indexes and lag; exit 0
                         when a majority of the reachable servers know one leader
                         (--json: [{ id, address, reachable, status | error }])
  transfer-leader [--to <n>]  hand leadership to server n (default: the most caught-up voter)
  add-voter <n>          add server n (listed in the ensemble file) as a voter, or promote a learner
  add-learner <n>        add server n as a learner (receives the log, never votes)
  remove <n>             remove server n from the ensemble`;

const STATUS_TIMEOUT_MS = 1500;
const CHANGE_TIMEOUT_MS = 20_000;

export interface ServerReport {
  readonly id: number;
  readonly address: string;
  readonly reachable: boolean;
  readonly status?: NodeStatus;
  readonly error?: string;
}

/** How to reach the servers' HTTP endpoints: https (with the CA to verify them) when they speak TLS. */
interface Reach {
  readonly scheme: 'http' | 'https';
  readonly ca?: Buffer;
}

function reachOf(ensemble: Ensemble, caFlag: string | undefined): Reach {
  const fromFile = ensemble.settings.tlsCaFile;
  const caFile = caFlag ?? (typeof fromFile === 'string' ? fromFile : undefined);
  // tlsCaFile is only valid beside a certificate, so either key in the file means the servers speak TLS.
  const set = (key: string): boolean => typeof ensemble.settings[key] === 'string' && ensemble.settings[key] !== '';
  const secure = caFlag !== undefined || set('tlsCertFile') || set('tlsCaFile');
  if (!secure) return { scheme: 'http' };
  if (caFile === undefined) return { scheme: 'https' };
  try {
    return { scheme: 'https', ca: readFileSync(caFile) };
  } catch (error) {
    throw new Error(`zook admin: cannot read the TLS CA file ${caFile}: ${error instanceof Error ? error.message : String(error)}`);
  }
}

function describe(error: unknown): string {
  if (error instanceof Error) {
    const cause = (error as { cause?: unknown }).cause;
    if (error.name === 'TimeoutError') return 'timed out';
    if (cause instanceof Error) return cause.message;
    return error.message;
  }
  return String(error);
}

async function statusOf(reach: Reach, server: EnsembleServer): Promise<ServerReport> {
  const address = `${server.host}:${server.clientPort}`;
  try {
    const response = await httpRequest(`${reach.scheme}://${address}/status`, { timeoutMs: STATUS_TIMEOUT_MS, ca: reach.ca });
    if (response.status < 200 || response.status > 299) return { id: server.id, address, reachable: false, error: `HTTP ${response.status}` };
    return { id: server.id, address, reachable: true, status: JSON.parse(response.text) as NodeStatus };
  } catch (error) {
    return { id: server.id, address, reachable: false, error: describe(error) };
  }
}

/** The leader a majority of the reachable servers agree on, or 0. */
function agreedLeader(reports: readonly ServerReport[]): number {
  const reachable = reports.filter((r) => r.reachable);
  const votes = new Map<number, number>();
  for (const r of reachable) if (r.status!.hasLeader) votes.set(r.status!.leader, (votes.get(r.status!.leader) ?? 0) + 1);
  for (const [leader, count] of votes) if (count * 2 > reachable.length) return leader;
  return 0;
}

function table(rows: readonly string[][]): string {
  const widths = rows[0].map((_, i) => Math.max(...rows.map((r) => r[i].length)));
  return rows.map((r) => r.map((cell, i) => cell.padEnd(widths[i])).join('  ').trimEnd()).join('\n');
}

function statusTable(reports: readonly ServerReport[]): string {
  const leaderReport = reports.find((r) => r.status?.role === 'leader');
  const lag = new Map((leaderReport?.status?.followers ?? []).map((f) => [f.id, f.lag]));
  const rows = [['id', 'role', 'term', 'leader', 'commitIndex', 'appliedIndex', 'lag', 'reachable']];
  for (const r of reports) {
    const s = r.status;
    if (s === undefined) {
      rows.push([String(r.id), '-', '-', '-', '-', '-', '-', `no (${r.address}: ${r.error ?? 'unreachable'})`]);
      continue;
    }
    const lagText = s.role === 'leader' ? '0' : lag.has(r.id) ? String(lag.get(r.id)) : '-';
    rows.push([String(r.id), s.role, String(s.term), s.hasLeader ? String(s.leader) : '-', String(s.commitIndex), String(s.appliedIndex), lagText, 'yes']);
  }
  return table(rows);
}

interface PostResult {
  readonly ok: boolean;
  readonly httpStatus: number;
  readonly body: Record<string, unknown>;
}

async function post(reach: Reach, ensemble: Ensemble, server: EnsembleServer, path: string): Promise<PostResult> {
  const response = await httpRequest(`${reach.scheme}://${server.host}:${server.clientPort}${path}`, {
    method: 'POST',
    headers: { [ADMIN_TOKEN_HEADER]: adminToken(ensemble.secret, ensemble.clusterId) },
    timeoutMs: CHANGE_TIMEOUT_MS,
    ca: reach.ca,
  });
  const text = response.text;
  let body: Record<string, unknown>;
  try {
    body = JSON.parse(text) as Record<string, unknown>;
  } catch {
    body = { error: text };
  }
  return { ok: response.status >= 200 && response.status <= 299, httpStatus: response.status, body };
}

/** Sends a change to the leader (found through /status); on 421 tries once more at the leader the server names. */
async function toLeader(reach: Reach, ensemble: Ensemble, path: string): Promise<PostResult> {
  const reports = await Promise.all(ensemble.servers.map((s) => statusOf(reach, s)));
  const reachable = reports.filter((r) => r.reachable);
  if (reachable.length === 0) throw new Error(`no server answered (${reports.map((r) => `${r.address}: ${r.error}`).join('; ')})`);
  const leaderId = reachable.find((r) => r.status!.role === 'leader')?.id ?? agreedLeader(reports);
  const first = ensemble.servers.find((s) => s.id === leaderId) ?? ensemble.servers.find((s) => s.id === reachable[0].id)!;
  let result = await post(reach, ensemble, first, path);
  if (result.httpStatus === 421) {
    const named = Number(result.body.leader);
    const next = ensemble.servers.find((s) => s.id === named);
    if (next === undefined || next.id === first.id) throw new Error(`server ${first.id} is not the leader and knows no other (${String(result.body.error)})`);
    result = await post(reach, ensemble, next, path);
  }
  return result;
}

function serverId(text: string | undefined, what: string): number {
  const n = Number(text);
  if (text === undefined || !Number.isInteger(n) || n < 1 || n > 127) throw new Error(`admin ${what}: expected a server id 1..127, got ${text === undefined ? 'nothing' : `"${text}"`}`);
  return n;
}

export async function adminCommand(argv: string[]): Promise<void> {
  const { values, positionals } = parseArgs({
    args: argv,
    options: {
      config: { type: 'string' },
      json: { type: 'boolean' },
      to: { type: 'string' },
      'tls-ca': { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
    allowPositionals: true,
    strict: true,
  });
  const [command, arg] = positionals;
  if (values.help === true || command === undefined) {
    console.log(ADMIN_USAGE);
    if (command === undefined && values.help !== true) process.exitCode = 2;
    return;
  }
  if (values.config === undefined) throw new Error(`admin ${command}: say which ensemble with --config <ensemble.json>`);
  const ensemble = readEnsembleFile(values.config);
  const reach = reachOf(ensemble, values['tls-ca']);

  let path: string;
  switch (command) {
    case 'status': {
      const reports = await Promise.all(ensemble.servers.map((s) => statusOf(reach, s)));
      console.log(values.json === true ? JSON.stringify(reports, null, 2) : statusTable(reports));
      process.exitCode = agreedLeader(reports) === 0 ? 1 : 0;
      return;
    }
    case 'transfer-leader':
      path = values.to === undefined ? '/admin/transfer-leader' : `/admin/transfer-leader?to=${serverId(values.to, 'transfer-leader --to')}`;
      break;
    case 'add-voter':
    case 'add-learner':
    case 'remove':
      path = `/admin/members/${command}?id=${serverId(arg, command)}`;
      break;
    default:
      console.error(`zook admin: unknown command "${command}"\n\n${ADMIN_USAGE}`);
      process.exitCode = 2;
      return;
  }
  const result = await toLeader(reach, ensemble, path);
  if (result.ok) {
    console.log(JSON.stringify(result.body));
    return;
  }
  console.error(`zook admin ${command}: HTTP ${result.httpStatus}: ${String(result.body.error ?? JSON.stringify(result.body))}`);
  process.exitCode = 1;
}
