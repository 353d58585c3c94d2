// What a 3-server ensemble's logs say when its leader is killed: the survivors log the
// peer link going down, and the election with its new term. Server processes (dist/),
// stdout piped, so every line is JSON.
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { logLines } from '../support/log-lines.js';
import { Cluster, SECRET, until } from './support/cluster.js';


describe('a 3-server ensemble whose leader is killed', () => {
  let cluster: Cluster;
  let oldLeader = 0;
  let oldTerm = 0;
  let survivor = 0;
  let newLeader = 0;

  beforeAll(async () => {
    cluster = await Cluster.start({ size: 3 });
    oldLeader = await cluster.leader();
    oldTerm = (await cluster.status(oldLeader))!.term;
    survivor = cluster.ids.find((id) => id !== oldLeader)!;
    await cluster.kill9(oldLeader);
    newLeader = await cluster.leader(30_000, [oldLeader]);
  }, 60_000);

  afterAll(async () => {
    await cluster?.stopAll();
  });

  test('a survivor logs the link to the old leader going down', async () => {
    const down = await until('the link-down line', 20_000, () =>
      logLines(cluster.log(survivor)).find((l) => l.component === 'peer' && l.peer === oldLeader && l.msg.startsWith(`link to server ${oldLeader} down`)),
    );
    expect(down.level).toBe('warn');
  });

  test('a survivor logs the election that followed, with a term past the old leader\'s', async () => {
    const lines = logLines(cluster.log(survivor)).filter((l) => l.component === 'raft');
    const elected = lines.find((l) => (l.term as number) > oldTerm && (/^became leader in term \d+/.test(l.msg) || /^leader is server \d+ in term \d+/.test(l.msg)));
    expect(elected, JSON.stringify(lines, null, 1)).toBeDefined();
    expect(elected!.leader).not.toBe(oldLeader);
  });

  test('no server logs the ensemble secret; the settings line shows it redacted', () => {
    for (const id of cluster.ids) {
      const output = cluster.log(id);
      expect(output).not.toContain(SECRET);
      const settings = logLines(output).find((l) => l.msg.startsWith('starting zook server'));
      expect(settings?.ensemble).toMatchObject({ secret: '[redacted]' });
    }
  });

  // Last: it leaves the ensemble without a quorum.
  test('a server cut off from the new leader logs that it lost contact and why, naming the leader', async () => {
    const cutOff = cluster.ids.find((id) => id !== oldLeader && id !== newLeader)!;
    // It serves (has a leader) before the cut, or it has nothing to lose.
    await until('the follower to serve', 20_000, async () => ((await cluster.health(cutOff)).code === 200 ? true : undefined));
    cluster.isolate(cutOff);
    const lost = await until('the lost-contact line', 20_000, () =>
      logLines(cluster.log(cutOff)).find((l) => l.msg.startsWith('lost contact with the leader') && new RegExp(`(leader|server) ${newLeader}\\b`).test(l.msg)),
    );
    expect(lost).toMatchObject({ level: 'warn', component: 'raft' });
    expect(lost.msg).toMatch(/dropping this server's clients/);
  });
});
