// zook's web console: a single page served by every server at `/` (src/server/console-files.ts).
// Preact + htm render it (no JSX build step); uPlot draws the charts. It talks to the
// server that served it only: zook's browser client over ws(s)://, /ensemble, /metrics, /admin/*.
import './app.css';
import 'uplot/dist/uPlot.min.css';
import { html } from 'htm/preact';
import { render } from 'preact';
import { useEffect, useState } from 'preact/hooks';
import { fetchEnsemble, fetchMetrics, openClient, serverUrl, type Credentials, type EnsembleStatus, type ZookClient } from './api.js';
import { describeError } from './format.js';
import { lagSeries, pointBetween, scrapeOf, trimmed, type LagPoint, type MetricsPoint } from './history.js';
import { Chart, EnsemblePanel, SessionsPanel, WatchPanel } from './panels.js';
import { TreeView } from './tree.js';

/** How often the ensemble view and the lag chart refresh. */
const ENSEMBLE_POLL_MS = 1000;
/** How often /metrics is scraped for the charts. */
const METRICS_POLL_MS = 2000;

type Tab = 'tree' | 'watch' | 'ensemble' | 'sessions' | 'charts';
const TABS: readonly Tab[] = ['tree', 'watch', 'ensemble', 'sessions', 'charts'];

function tabFromHash(): Tab {
  const t = location.hash.replace(/^#/, '').split(':')[0] as Tab;
  return TABS.includes(t) ? t : 'tree';
}

function App() {
  const [tab, setTab] = useState<Tab>(tabFromHash());
  const [credentials, setCredentials] = useState<Credentials | null>(null);
  /** Bumped by 'New session': a session that expired (or never opened) is not reopened behind the user's back. */
  const [sessionRound, setSessionRound] = useState(0);
  const [client, setClient] = useState<ZookClient | null>(null);
  const [clientState, setClientState] = useState('connecting');
  const [clientError, setClientError] = useState<string | null>(null);
  const [token, setToken] = useState(sessionStorage.getItem('zook-admin-token') ?? '');
  const [path, setPath] = useState('/');
  const [ensemble, setEnsemble] = useState<EnsembleStatus | null>(null);
  const [ensembleError, setEnsembleError] = useState<string | null>(null);
  const [points, setPoints] = useState<MetricsPoint[]>([]);
  const [lags, setLags] = useState<LagPoint[]>([]);

  // One session at a time: signing in (or out) opens a new one with those credentials.
  useEffect(() => {
    let current: ZookClient | null = null;
    let live = true;
    setClient(null);
    setClientState('connecting');
    setClientError(null);
    openClient(credentials).then(
      (c) => {
        current = c;
        if (!live) return void c.close();
        // Only this effect's client speaks: a replaced one's 'closed' must not overwrite the new state.
        c.on('state', (s) => live && setClientState(s));
        setClientState('connected');
        setClient(c);
      },
      (e: unknown) => live && (setClientError(describeError(e)), setClientState('failed')),
    );
    return () => {
      live = false;
      void current?.close();
    };
  }, [credentials, sessionRound]);

  useEffect(() => {
    const tick = (): void => {
      fetchEnsemble().then(
        (e) => {
          setEnsemble(e);
          setEnsembleError(null);
          const t = Date.now() / 1000;
          const leader = e.members.find((m) => m.status?.role === 'leader')?.status;
          const lag: Record<number, number> = {};
          for (const f of leader?.followers ?? []) lag[f.id] = f.lag;
          setLags((l) => trimmed([...l, { t, lag }], t));
        },
        (err: unknown) => setEnsembleError(`/ensemble: ${describeError(err)}`),
      );
    };
    tick();
    const timer = setInterval(tick, ENSEMBLE_POLL_MS);
    return () => clearInterval(timer);
  }, []);

  useEffect(() => {
    let last: ReturnType<typeof scrapeOf> | null = null;
    const tick = (): void => {
      fetchMetrics().then(
        (text) => {
          const scrape = scrapeOf(text, Date.now() / 1000);
          if (last !== null) {
            const p = pointBetween(last, scrape);
            setPoints((ps) => trimmed([...ps, p], scrape.t));
          }
          last = scrape;
        },
        () => undefined,
      );
    };
    tick();
    const timer = setInterval(tick, METRICS_POLL_MS);
    return () => clearInterval(timer);
  }, []);

  const show = (t: Tab): void => {
    setTab(t);
    history.replaceState(null, '', `#${t}`);
  };
  const signIn = (event: Event): void => {
    event.preventDefault();
    const form = new FormData(event.target as HTMLFormElement);
    const user = String(form.get('user') ?? '').trim();
    setCredentials(user === '' ? null : { user, password: String(form.get('password') ?? '') });
  };
  const saveToken = (value: string): void => {
    setToken(value);
    sessionStorage.setItem('zook-admin-token', value);
  };

  const times = points.map((p) => p.t);
  return html`
    <header>
      <h1>zook</h1>
      <span class="server">${serverUrl()} ${ensemble !== null && html`· server ${ensemble.self}`}</span>
      <span class=${`state ${clientState}`} data-test="client-state">${clientState}</span>
      <form class="signin" onSubmit=${signIn}>
        ${credentials === null
          ? html`<input name="user" placeholder="user" autocomplete="username" /><input name="password" type="password" placeholder="password" autocomplete="current-password" /><button type="submit">Sign in (digest)</button>`
          : html`<span data-test="signed-in">signed in as ${credentials.user}</span><button type="button" onClick=${() => setCredentials(null)}>Sign out</button>`}
      </form>
      <label class="token">admin token <input type="password" data-test="admin-token" value=${token} onInput=${(e: Event) => saveToken((e.target as HTMLInputElement).value)} /></label>
    </header>
    <nav class="tabs main">
      ${TABS.map((t) => html`<button class=${t === tab ? 'on' : ''} data-tab=${t} onClick=${() => show(t)}>${t}</button>`)}
    </nav>
    <main>
      ${clientError !== null && html`<p class="error">Cannot connect to ${serverUrl()}: ${clientError}</p>`}
      ${(clientState === 'expired' || clientState === 'closed' || clientState === 'failed') &&
      html`<p class="error">The console's session is ${clientState}: its watches are gone. <button onClick=${() => setSessionRound((n) => n + 1)}>New session</button></p>`}
      ${tab === 'tree' && client !== null && html`<${TreeView} client=${client} path=${path} go=${setPath} />`}
      ${tab === 'watch' && client !== null && html`<${WatchPanel} client=${client} />`}
      ${tab === 'ensemble' && html`<${EnsemblePanel} ensemble=${ensemble} error=${ensembleError} token=${token} />`}
      ${tab === 'sessions' && client !== null && html`<${SessionsPanel} client=${client} token=${token} credentials=${credentials} />`}
      ${tab === 'charts' &&
      html`<div class="charts" data-test="charts" data-points=${points.length}>
        <${Chart} title="Requests per second (this server)" unit="req/s" times=${times} series=${[{ name: 'requests', values: points.map((p) => p.requestsPerSecond) }]} />
        <${Chart} title="Request latency (this server)" unit="ms" times=${times} series=${[
          { name: 'p50', values: points.map((p) => p.latencyMs.p50) },
          { name: 'p90', values: points.map((p) => p.latencyMs.p90) },
          { name: 'p99', values: points.map((p) => p.latencyMs.p99) },
        ]} />
        <${Chart} title="WAL fsync time (this server)" unit="ms" times=${times} series=${[
          { name: 'mean', values: points.map((p) => p.fsyncMs.mean) },
          { name: 'p99', values: points.map((p) => p.fsyncMs.p99) },
        ]} />
        <${Chart} title="Follower lag (entries behind the leader)" unit="entries" times=${lags.map((l) => l.t)} series=${lagSeries(lags)} />
      </div>`}
    </main>
  `;
}

render(html`<${App} />`, document.getElementById('app')!);
