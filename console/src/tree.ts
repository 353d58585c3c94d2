// Tree browser: children of the current path (paged), the node's data as text / JSON /
// hex, its Stat and ACLs; create a child, edit data with a version check, delete with a
// confirmation step. Every call goes through the signed-in session, so ACLs apply.
import { html } from 'htm/preact';
import { useEffect, useState } from 'preact/hooks';
import type { Acl, CreateModeName, Stat, ZookClient } from 'zook/client';
import { describeError, hex, joinPath, parentOf, permString, textOf } from './format.js';

/** Children fetched per page: a parent with a million children stays browsable. */
export const CHILDREN_PAGE_SIZE = 100;

type View = 'text' | 'json' | 'hex';
const encoder = new TextEncoder();

interface NodeInfo {
  /** The path these were read from: shown only while it is still the current one. */
  readonly path: string;
  readonly data: Uint8Array;
  readonly stat: Stat;
  readonly acl: readonly Acl[] | null;
  readonly aclError: string | null;
}

export function TreeView({ client, path, go }: { client: ZookClient; path: string; go: (path: string) => void }) {
  const [children, setChildren] = useState<string[]>([]);
  const [nextAfter, setNextAfter] = useState<string | undefined>(undefined);
  const [info, setInfo] = useState<NodeInfo | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [notice, setNotice] = useState<string | null>(null);
  const [view, setView] = useState<View>('text');
  const [draft, setDraft] = useState<string | null>(null);
  const [newName, setNewName] = useState('');
  const [newData, setNewData] = useState('');
  const [newMode, setNewMode] = useState('PERSISTENT');
  const [confirmDelete, setConfirmDelete] = useState(false);
  const [reloads, setReloads] = useState(0);
  /** The path the shown details (or the error in their place) belong to. */
  const [loadedPath, setLoadedPath] = useState<string | null>(null);

  useEffect(() => {
    let live = true;
    setError(null);
    setDraft(null);
    setConfirmDelete(false);
    (async () => {
      try {
        const [page, got] = await Promise.all([client.getChildrenPaged(path, { limit: CHILDREN_PAGE_SIZE }), client.getData(path)]);
        let acl: readonly Acl[] | null = null;
        let aclError: string | null = null;
        try {
          acl = (await client.getACL(path)).acl;
        } catch (e) {
          aclError = describeError(e);
        }
        if (!live) return;
        setChildren(page.children);
        setNextAfter(page.nextAfter);
        setInfo({ path, data: got.data, stat: got.stat, acl, aclError });
        setLoadedPath(path);
      } catch (e) {
        if (!live) return;
        setChildren([]);
        setNextAfter(undefined);
        setInfo(null);
        setError(describeError(e));
        setLoadedPath(path);
      }
    })();
    return () => {
      live = false;
    };
  }, [client, path, reloads]);

  const reload = (): void => setReloads((n) => n + 1);
  const act = async (what: () => Promise<string>): Promise<void> => {
    setError(null);
    setNotice(null);
    try {
      setNotice(await what());
    } catch (e) {
      setError(describeError(e));
    }
  };

  const more = (): Promise<void> =>
    act(async () => {
      const page = await client.getChildrenPaged(path, { limit: CHILDREN_PAGE_SIZE, after: nextAfter });
      setChildren((c) => [...c, ...page.children]);
      setNextAfter(page.nextAfter);
      return `${page.children.length} more children`;
    });

  const save = (): Promise<void> =>
    act(async () => {
      if (info === null || draft === null) return '';
      const stat = await client.setData(path, encoder.encode(draft), { version: info.stat.version });
      setDraft(null);
      reload();
      return `saved ${path}: version ${stat.version}`;
    });

  const create = (event: Event): Promise<void> => {
    event.preventDefault();
    return act(async () => {
      const created = await client.create(joinPath(path, newName.trim()), encoder.encode(newData), { mode: newMode as CreateModeName });
      setNewName('');
      setNewData('');
      reload();
      return `created ${created}`;
    });
  };

  const remove = (): Promise<void> =>
    act(async () => {
      if (info === null) return '';
      await client.delete(path, { version: info.stat.version });
      go(parentOf(path));
      return `deleted ${path}`;
    });

  const crumbs = path === '/' ? [] : path.split('/').slice(1);
  return html`
    <section class="tree">
      <nav class="crumbs" data-test="crumbs">
        <a href="#" onClick=${(e: Event) => (e.preventDefault(), go('/'))}>/</a>
        ${crumbs.map((c, i) => html`<a href="#" onClick=${(e: Event) => (e.preventDefault(), go('/' + crumbs.slice(0, i + 1).join('/')))}>${c}</a>/`)}
        <button class="small" data-test="refresh" onClick=${reload}>Refresh</button>
      </nav>
      ${error !== null && html`<p class="error" data-test="tree-error">${error}</p>`}
      ${notice !== null && notice !== '' && html`<p class="notice" data-test="tree-notice">${notice}</p>`}
      <div class="columns">
        <div class="children">
          <h3>Children ${info !== null && html`<small>(${info.stat.numChildren})</small>`}</h3>
          <ul data-test="children">
            ${children.map((name) => html`<li><a href="#" data-child=${name} onClick=${(e: Event) => (e.preventDefault(), go(joinPath(path, name)))}>${name}</a></li>`)}
          </ul>
          ${nextAfter !== undefined && html`<button data-test="more" onClick=${more}>More children…</button>`}
          <form class="create" onSubmit=${create}>
            <h4>Create child</h4>
            <input data-test="new-name" placeholder="name" value=${newName} onInput=${(e: Event) => setNewName((e.target as HTMLInputElement).value)} required />
            <textarea data-test="new-data" placeholder="data (text)" value=${newData} onInput=${(e: Event) => setNewData((e.target as HTMLTextAreaElement).value)}></textarea>
            <select value=${newMode} onChange=${(e: Event) => setNewMode((e.target as HTMLSelectElement).value)}>
              ${['PERSISTENT', 'PERSISTENT_SEQUENTIAL', 'EPHEMERAL', 'EPHEMERAL_SEQUENTIAL', 'CONTAINER'].map((m) => html`<option value=${m}>${m.toLowerCase()}</option>`)}
            </select>
            <button type="submit" data-test="create">Create</button>
          </form>
        </div>
        ${loadedPath === path && info === null && html`<div class="node"><h3>${path}</h3><p class="error">not readable with this session's identities (sign in?)</p></div>`}
        ${info !== null &&
        info.path === path &&
        html`<div class="node">
          <h3>${path}</h3>
          <div class="tabs small">
            ${(['text', 'json', 'hex'] as View[]).map((v) => html`<button class=${v === view ? 'on' : ''} data-view=${v} onClick=${() => setView(v)}>${v}</button>`)}
          </div>
          ${draft === null
            ? html`<pre class="data" data-test="data">${renderData(info.data, view)}</pre>
                <button data-test="edit" onClick=${() => setDraft(textOf(info.data))}>Edit</button>
                ${path !== '/' &&
                (confirmDelete
                  ? html`<span class="confirm">Delete ${path} (version ${info.stat.version})?
                      <button class="danger" data-test="confirm-delete" onClick=${remove}>Yes, delete</button>
                      <button onClick=${() => setConfirmDelete(false)}>Cancel</button></span>`
                  : html`<button class="danger" data-test="delete" onClick=${() => setConfirmDelete(true)}>Delete…</button>`)}`
            : html`<textarea class="data" data-test="editor" value=${draft} onInput=${(e: Event) => setDraft((e.target as HTMLTextAreaElement).value)}></textarea>
                <button data-test="save" onClick=${save}>Save if still version ${info.stat.version}</button>
                <button onClick=${() => setDraft(null)}>Cancel</button>`}
          <h4>Stat</h4>
          <table class="kv" data-test="stat">
            ${Object.entries(info.stat).map(([k, v]) => html`<tr><th>${k}</th><td>${statValue(k, v as number)}</td></tr>`)}
          </table>
          <h4>ACL</h4>
          ${info.acl === null
            ? html`<p class="error">${info.aclError}</p>`
            : html`<table class="kv" data-test="acl">
                ${info.acl.map((a) => html`<tr><th>${a.scheme}:${a.id}</th><td>${permString(a.perms)}</td></tr>`)}
              </table>`}
        </div>`}
      </div>
    </section>
  `;
}

function renderData(data: Uint8Array, view: View): string {
  if (view === 'hex') return hex(data);
  const text = textOf(data);
  if (view === 'json') {
    try {
      return JSON.stringify(JSON.parse(text), null, 2);
    } catch (e) {
      return `(not JSON: ${e instanceof Error ? e.message : String(e)})\n${text}`;
    }
  }
  return text;
}

function statValue(key: string, value: number): string {
  if (key === 'ctime' || key === 'mtime') return value === 0 ? '0' : `${new Date(value).toISOString()} (${value})`;
  if (key.endsWith('zxid') || key === 'ephemeralOwner') return `0x${value.toString(16)}`;
  return String(value);
}
