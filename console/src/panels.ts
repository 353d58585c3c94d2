// The console's other panels: the live watch, the ensemble, sessions, and charts.
import { html } from 'htm/preact';
import { useEffect, useRef, useState } from 'preact/hooks';
import uPlot from 'uplot';
import type { WatchEvent, Watcher, ZookClient } from 'zook/client';
import { adminPost, NotLeader, type Credentials, type EnsembleStatus, type SessionInfo, adminHeaders, fetchSessions } from './api.js';
import { describeError } from './format.js';
import { HISTORY_SECONDS, type Series } from './history.js';

/** The narrowest time axis of a chart. */
const MIN_SPAN_SECONDS = 60;

/** Events kept on screen; older ones scroll away. */
export const MAX_WATCH_EVENTS = 500;

interface ShownEvent extends WatchEvent {
  readonly atMs: number;
  readonly seq: number;
}

export function WatchPanel({ client }: { client: ZookClient }) {
  const [path, setPath] = useState('/');
  const [following, setFollowing] = useState<{ path: string; watcher: Watcher } | null>(null);
  const [events, setEvents] = useState<ShownEvent[]>([]);
  const [error, setError] = useState<string | null>(null);
  const seq = useRef(0);

  useEffect(() => {
    return () => {
      if (following !== null) client.removeWatches(following.path, { watcher: following.watcher }).catch(() => undefined);
    };
  }, [client, following]);

  const start = async (event: Event): Promise<void> => {
    event.preventDefault();
    setError(null);
    const watcher: Watcher = (e) => setEvents((list) => [{ ...e, atMs: Date.now(), seq: ++seq.current }, ...list].slice(0, MAX_WATCH_EVENTS));
    try {
      if (following !== null) await client.removeWatches(following.path, { watcher: following.watcher }).catch(() => undefined);
      await client.addWatch(path, watcher, { mode: 'PERSISTENT_RECURSIVE' });
      setFollowing({ path, watcher });
    } catch (e) {
      setError(describeError(e));
    }
  };
  const stop = async (): Promise<void> => {
    if (following === null) return;
    await client.removeWatches(following.path, { watcher: following.watcher }).catch(() => undefined);
    setFollowing(null);
  };

  return html`<section class="watch">
    <form class="row" onSubmit=${start}>
      <label>Follow subtree <input data-test="watch-path" value=${path} onInput=${(e: Event) => setPath((e.target as HTMLInputElement).value)} /></label>
      <button type="submit" data-test="watch-start">${following === null ? 'Follow' : 'Follow instead'}</button>
      ${following !== null && html`<button type="button" onClick=${stop}>Stop</button> <span data-test="watching">following ${following.path} (persistent recursive watch)</span>`}
      <button type="button" onClick=${() => setEvents([])}>Clear</button>
    </form>
    ${error !== null && html`<p class="error">${error}</p>`}
    <table class="grid" data-test="events">
      <thead><tr><th>time</th><th>event</th><th>path</th><th>zxid</th></tr></thead>
      <tbody>
        ${events.map((e) => html`<tr key=${e.seq} data-type=${e.type} data-path=${e.path} data-at=${e.atMs}><td>${new Date(e.atMs).toISOString().slice(11, 23)}</td><td>${e.type}</td><td class="path">${e.path}</td><td>0x${e.zxid.toString(16)}</td></tr>`)}
      </tbody>
    </table>
  </section>`;
}

export function EnsemblePanel({ ensemble, error, token }: { ensemble: EnsembleStatus | null; error: string | null; token: string }) {
  const [target, setTarget] = useState('');
  const [memberId, setMemberId] = useState('');
  const [result, setResult] = useState<string | null>(null);
  /** After a 421: the leader's console, where the action can be done. */
  const [leaderConsole, setLeaderConsole] = useState<string | null>(null);
  if (ensemble === null) return html`<p class="error">${error ?? 'loading…'}</p>`;
  const statuses = ensemble.members.map((m) => m.status).filter((s) => s !== null);
  // The leader as the servers see it: the highest term's leader that a reachable member names.
  const best = statuses.filter((s) => s.hasLeader).sort((a, b) => b.term - a.term)[0];
  const leader = best?.leader ?? 0;
  const leaderStatus = statuses.find((s) => s.serverId === leader && s.role === 'leader');
  /** Membership as the leader (else the most recent reachable server) has it: voter, learner, or no longer a member. */
  const view = leaderStatus ?? best;
  const membershipOf = (id: number): string => (view === undefined ? '?' : view.voters.includes(id) ? 'voter' : view.learners.includes(id) ? 'learner' : 'not a member');
  const lagOf = (id: number): string => {
    if (id === leader) return '—';
    const f = leaderStatus?.followers.find((x) => x.id === id);
    return f === undefined ? '?' : `${f.lag}${f.linkUp ? '' : ' (link down)'}`;
  };
  const admin = async (action: string, query: Record<string, string>): Promise<void> => {
    setResult(null);
    setLeaderConsole(null);
    try {
      setResult(`${action}: ${await adminPost(action, query, token)}`);
    } catch (e) {
      setResult(`${action} failed: ${describeError(e)}`);
      if (e instanceof NotLeader) setLeaderConsole(ensemble.members.find((m) => m.id === e.leader && m.url !== '')?.url ?? null);
    }
  };
  return html`<section class="ensemble">
    <p class="leader" data-test="leader" data-leader=${leader}>${leader === 0 ? 'No leader' : `Leader: server ${leader}`}
      ${best !== undefined && html` <small>(term ${best.term})</small>`}</p>
    ${error !== null && html`<p class="error">${error}</p>`}
    <table class="grid" data-test="members">
      <thead><tr><th>id</th><th>address</th><th>member</th><th>role</th><th>term</th><th>commit</th><th>applied</th><th>lag</th><th>sessions</th><th>znodes</th><th>health</th></tr></thead>
      <tbody>
        ${ensemble.members.map((m) => {
          const s = m.status;
          const health = s === null ? `unreachable: ${m.error ?? ''}` : s.storageStall !== null ? `disk stalled (${s.storageStall.code})` : s.hasLeader ? 'ok' : 'no leader';
          return html`<tr data-member=${m.id} data-role=${s?.role ?? 'down'} data-membership=${membershipOf(m.id)} class=${s === null ? 'down' : s.role}>
            <td>${m.id}${m.id === ensemble.self ? ' (this)' : ''}</td>
            <td>${m.url === '' ? '?' : html`<a href=${m.url + '/'}>${m.host}:${m.clientPort}</a>`}</td>
            <td>${membershipOf(m.id)}</td>
            <td>${s?.role ?? '—'}</td>
            <td>${s?.term ?? '—'}</td><td>${s?.commitIndex ?? '—'}</td><td>${s?.appliedIndex ?? '—'}</td>
            <td>${s === null ? '—' : lagOf(m.id)}</td><td>${s?.sessions ?? '—'}</td><td>${s?.znodes ?? '—'}</td>
            <td class=${health === 'ok' ? 'ok' : 'bad'}>${health}</td>
          </tr>`;
        })}
      </tbody>
    </table>
    <h4>Admin actions <small>(need the admin token; sent to the server this console came from, which must lead)</small></h4>
    <div class="row">
      <input placeholder="to server id (blank: best)" value=${target} onInput=${(e: Event) => setTarget((e.target as HTMLInputElement).value)} />
      <button data-test="transfer-leader" disabled=${token === ''} onClick=${() => admin('transfer-leader', target === '' ? {} : { to: target })}>Transfer leadership</button>
    </div>
    <div class="row">
      <input placeholder="server id" data-test="member-id" value=${memberId} onInput=${(e: Event) => setMemberId((e.target as HTMLInputElement).value)} />
      <button disabled=${token === ''} onClick=${() => admin('members/add-voter', { id: memberId })}>Add voter</button>
      <button disabled=${token === ''} onClick=${() => admin('members/add-learner', { id: memberId })}>Add learner</button>
      <button class="danger" data-test="remove-member" disabled=${token === ''} onClick=${() => admin('members/remove', { id: memberId })}>Remove</button>
    </div>
    ${result !== null && html`<p class="notice" data-test="admin-result">${result}${leaderConsole !== null && html` — <a href=${leaderConsole + '/#ensemble'}>open the leader's console</a>`}</p>`}
  </section>`;
}

export function SessionsPanel({ client, token, credentials }: { client: ZookClient; token: string; credentials: Credentials | null }) {
  const [sessions, setSessions] = useState<SessionInfo[] | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [own, setOwn] = useState<string[]>([]);
  const load = async (): Promise<void> => {
    setError(null);
    client.getEphemerals('/').then(setOwn, () => setOwn([]));
    try {
      setSessions((await fetchSessions(adminHeaders(token, credentials))).sessions);
    } catch (e) {
      setSessions(null);
      setError(describeError(e));
    }
  };
  useEffect(() => {
    void load();
  }, [client, token, credentials]);
  return html`<section class="sessions">
    <p>This console's session: <code data-test="own-session">0x${client.sessionId.toString(16)}</code>, its ephemerals: ${own.length === 0 ? 'none' : own.join(', ')}
      <button class="small" onClick=${load}>Refresh</button></p>
    ${error !== null && html`<p class="error">Every session: ${error}</p>`}
    ${sessions !== null &&
    html`<table class="grid" data-test="sessions">
      <thead><tr><th>session</th><th>timeout</th><th>connected here</th><th>ephemerals</th></tr></thead>
      <tbody>${sessions.map((s) => html`<tr data-session=${s.id}><td><code>${s.id}</code></td><td>${s.timeoutMs} ms</td><td>${s.connectedHere ? 'yes' : ''}</td><td class="path">${s.ephemerals.join('\n')}</td></tr>`)}</tbody>
    </table>`}
  </section>`;
}

/** One uPlot chart of some series sharing the time axis; redrawn in place as the data grow. */
export function Chart({ title, unit, times, series }: { title: string; unit: string; times: readonly number[]; series: readonly Series[] }) {
  const box = useRef<HTMLDivElement>(null);
  const plot = useRef<uPlot | null>(null);
  const names = series.map((s) => s.name).join('|');
  useEffect(() => {
    if (box.current === null) return;
    const opts: uPlot.Options = {
      title,
      width: 560,
      height: 220,
      series: [{}, ...series.map((s, i) => ({ label: s.name, stroke: COLORS[i % COLORS.length], width: 1.5, value: (_: uPlot, v: number | null) => (v === null ? '—' : `${v.toFixed(2)} ${unit}`) }))],
      axes: [{}, { label: unit, size: 60 }],
      // Up to the last HISTORY_SECONDS, from the oldest point kept (at least a minute wide).
      scales: { x: { time: true, range: (_u: uPlot, min: number, max: number) => [Math.min(max - MIN_SPAN_SECONDS, Math.max(min, max - HISTORY_SECONDS)), max] } },
    };
    plot.current = new uPlot(opts, [[...times], ...series.map((s) => [...s.values])], box.current);
    return () => {
      plot.current?.destroy();
      plot.current = null;
    };
  }, [title, unit, names]);
  useEffect(() => {
    plot.current?.setData([[...times], ...series.map((s) => [...s.values])] as uPlot.AlignedData);
  }, [times, series]);
  return html`<div class="chart" ref=${box}></div>`;
}

const COLORS = ['#2563eb', '#dc2626', '#16a34a', '#9333ea', '#ea580c', '#0891b2'];
