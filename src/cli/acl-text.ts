// ACLs in zkCli's text form: `scheme:id:perms`, entries separated by commas, perms
// from "cdrwa" (create, delete, read, write, admin). Examples: `world:anyone:cdrwa`,
// `ip:10.0.0.0/8:r`, `digest:alice:XyZ...=:rw`, `auth::cdrwa`.
import { Perms, type Acl } from '../client/index.js';

const LETTERS: ReadonlyArray<readonly [string, number]> = [
  ['c', Perms.CREATE],
  ['d', Perms.DELETE],
  ['r', Perms.READ],
  ['w', Perms.WRITE],
  ['a', Perms.ADMIN],
];

export function permsToText(perms: number): string {
  return LETTERS.filter(([, bit]) => (perms & bit) !== 0)
    .map(([letter]) => letter)
    .join('');
}

export function parseAcl(text: string): Acl[] {
  return text.split(',').map((entry) => {
    const first = entry.indexOf(':');
    const last = entry.lastIndexOf(':');
    if (first < 0 || last === first) throw new Error(`bad ACL entry "${entry}": expected scheme:id:perms`);
    let perms = 0;
    for (const letter of entry.slice(last + 1)) {
      const found = LETTERS.find(([l]) => l === letter);
      if (found === undefined) throw new Error(`bad permission "${letter}" in "${entry}": use letters from cdrwa`);
      perms |= found[1];
    }
    return { scheme: entry.slice(0, first), id: entry.slice(first + 1, last), perms };
  });
}

export function aclToText(acl: readonly Acl[]): string {
  return acl.map((a) => `'${a.scheme},'${a.id}\n: ${permsToText(a.perms)}`).join('\n');
}
