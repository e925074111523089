/**
 * End to end (`warden serve`, the real MCP client, a real OpenSSH sshd and the host's git): a
 * repository with a committed Rails `config/master.key` and a `.vault-token` (files that are
 * themselves a secret, shell/secret-files.ts). Before, under a grant of git on the folder,
 * `git show HEAD:.vault-token`, `git grep -h .` and `git archive` printed or packed them, and
 * `git show`/`git log -p` printed the key in the commit's diff. Now the first three are refused
 * before any session starts (shell/git-secret-reads.ts) and a diff's lines of a secret file are
 * masked (secret-file-lines.ts); `git grep -n` names each file and its key line is masked. A deny
 * of a folder matched `cat` of it, but not `cat /proc/self/root/FOLDER/x` (shell/paths.ts). An
 * OpenVPN profile's inline blocks and nslcd's `bindpw` are masked (openvpn-secrets.ts, config-secrets.ts).
 */
import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { chownLoginTree, commitSecretRepo } from '../support/git-tree.js';
import { sshTreeWarden } from '../support/ssh-tree-warden.js';

const KEY = `7c4a8d09ca3762af61e59520943d${String(process.pid).padStart(4, '0').slice(-4)}`;
const TOKEN = `hvs.CAESIgit${process.pid}vaultTOKEN`;
const PRIVATE = `private-${process.pid}-hunter2`;
const VPN = `vpnPass${process.pid}`;
const STATIC = `0123456789abcdef${String(process.pid).padStart(8, '0')}fedcba98`;
const LDAP = `ldapBind${process.pid}`;
let BASE = '';
let REPO = '';

const host = sshTreeWarden('wgitproc-', (sshd, base) => {
  BASE = base;
  REPO = join(base, 'app', 'repo');
  commitSecretRepo(REPO, KEY, TOKEN);
  mkdirSync(join(base, 'app', 'private'));
  writeFileSync(join(base, 'app', 'private', 'notes.txt'), `${PRIVATE}\n`);
  writeFileSync(join(base, 'app', 'client.ovpn'), `client\nremote vpn.example 1194\n<auth-user-pass>\nalice\n${VPN}\n</auth-user-pass>\n<tls-auth>\n-----BEGIN OpenVPN Static key V1-----\n${STATIC}\n-----END OpenVPN Static key V1-----\n</tls-auth>\n`);
  writeFileSync(join(base, 'app', 'nslcd.conf'), `uri ldap://ldap.example\nbinddn cn=nslcd,dc=example,dc=com\nbindpw ${LDAP}\n`);
  chownLoginTree(base, sshd);
  const app = JSON.stringify([join(base, 'app')]);
  return `
rules:
  - id: read-app
    effect: allow
    who: { groups: [sre] }
    tool: ssh_run
    on: [web-1]
    shell:
      programs:
        git: { paths: ${app} }
        cat: {}
  - id: no-private
    effect: deny
    who: { groups: [sre] }
    tool: ssh_run
    on: [web-1]
    shell:
      programs:
        cat: { paths: ${JSON.stringify([join(base, 'app', 'private')])} }
`;
});

describe('ssh_run: git over a repository holding secret files, and /proc/self/root', () => {
  test('git show REV:PATH of a secret file, git grep -h and git archive are refused before any session', async () => {
    await host.sw().refused(`git -C ${REPO} show HEAD:.vault-token`, /'\.vault-token', a file that is itself a secret/);
    await host.sw().refused(`git -C ${REPO} grep -h -e 7c4a -e hvs`, /git grep -h, which drops the file names.*at any depth/);
    await host.sw().refused(`git -C ${REPO} archive HEAD`, /git archive, which packs the tree/);
  });

  test("git show and git log -p mask a secret file's diff lines; git grep -n masks its lines by name; the rest stays", async () => {
    const show = await host.sw().ran(`git -C ${REPO} show HEAD`);
    assert.ok(!show.includes(KEY) && !show.includes(TOKEN), show);
    assert.match(show, /\+\+\+ b\/config\/master\.key\n@@ -0,0 \+1 @@\n\+\*\*\*/);
    const log = await host.sw().ran(`git -C ${REPO} log -p`);
    assert.ok(!log.includes(KEY) && !log.includes(TOKEN), log);
    assert.match(log, /\+hello/);
    for (const cmd of ['log -p --graph', 'log -p --color=always', 'format-patch --stdout --root HEAD', 'diff HEAD~1 HEAD'.replace('~1', '^')]) {
      const out = await host.sw().ran(`git -C ${REPO} ${cmd}`);
      assert.ok(!out.includes(KEY) && !out.includes(TOKEN), `${cmd}: ${out}`);
      assert.match(out, /master\.key/, cmd);
    }
    const grep = await host.sw().ran(`git -C ${REPO} grep -n -e 7c4a -e hvs -e hello`);
    assert.ok(!grep.includes(KEY) && !grep.includes(TOKEN), grep);
    assert.match(grep, /README:1:hello/);
    assert.match(grep, /^config\/master\.key:\*\*\*$/m);
    assert.match(grep, /^\.vault-token:\*\*\*$/m);
    assert.equal(await host.sw().ran(`git -C ${REPO} show HEAD:README`), 'hello\n');
    assert.match(await host.sw().ran(`git -C ${REPO} ls-files`), /config\/master\.key/);
  });

  test('a deny of a folder matches it through /proc/self/root', async () => {
    await host.sw().refused(`cat /proc/self/root${BASE}/app/private/notes.txt`, /no-private/);
    await host.sw().refused(`cat /proc/1/root${BASE}/app/private/notes.txt`, /no-private/);
    assert.equal(await host.sw().ran(`cat /proc/self/root${BASE}/app/nslcd.conf`), 'uri ldap://ldap.example\nbinddn cn=nslcd,dc=example,dc=com\nbindpw ***\n');
  });

  test("an OpenVPN profile's inline password and static key are masked", async () => {
    const ovpn = await host.sw().ran(`cat ${BASE}/app/client.ovpn`);
    assert.ok(!ovpn.includes(VPN) && !ovpn.includes(STATIC) && !ovpn.includes('alice'), ovpn);
    assert.match(ovpn, /remote vpn\.example 1194\n<auth-user-pass>\n\*\*\*\n\*\*\*\n<\/auth-user-pass>/);
  });
});
