/**
 * kubectl_exec, red team: a deny's `paths:` judged a glob or brace word by its folder before the
 * first pattern character, lexically (`/srv/public/.?/private/notes` lies in /srv/public). But the
 * shell that runs an `sh -c` script (dash, busybox, bash before 5.2) matches `.?`, `.*`, `.[.]`
 * against `..`, and bash's brace expansion spells `..` from `{.,x}.` or `/srv/public{/../x,}`: the
 * word named /srv/private, which the deny forbids reading, and cat printed it under a grant of
 * kubectl_exec. Now a pattern word that may expand to `..` (a pattern segment starting with a dot;
 * a brace word with a segment of dots) reaches any path, and matches every denied prefix
 * (shared/shell/deny-paths.ts); other patterns are judged by their folder as before. Through
 * `warden serve` and the test API server, whose exec runs the script with the real /bin/sh.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { connectWarden, type WardenDir, type WardenSession } from '../support/warden-process.js';
import type { KubeApiServer } from '../support/kube-apiserver/index.js';
import { setupWardenKube } from '../support/kube-apiserver/warden-setup.js';

const PRIVATE = 'KGLOB-private-notes';
let server: KubeApiServer;
let dir: WardenDir;
let w: WardenSession;

const POLICY = `
rules:
  - id: sre-exec
    effect: allow
    who: { groups: [sre] }
    tool: kubectl_exec
    kubernetes: { namespaces: [shop], containers: [app] }
  - id: no-private
    effect: deny
    tool: kubectl_exec
    shell: { programs: { cat: { paths: [/srv/private] } } }
`;

before(async () => {
  ({ server, dir } = await setupWardenKube(POLICY));
  server.store.addPod({ namespace: 'shop', name: 'glob-1', labels: { app: 'web' }, containers: [{ name: 'app' }], files: { '/srv/public/notes': 'public-notes\n', '/srv/public/.notes-old': 'old-notes\n', '/srv/private/notes': `${PRIVATE}\n` } });
  w = await connectWarden(dir.configPath);
});

after(async () => {
  await w?.close();
  await server?.stop();
  dir?.cleanup();
});

const exec = (command: string[]) => w.call('kubectl_exec', { connection: 'prod', namespace: 'shop', pod: 'glob-1', container: 'app', command });

describe('kubectl_exec: a deny on a folder holds against patterns that expand to ..', () => {
  test('the denied file by its name is refused', async () => {
    for (const command of [['cat', '/srv/private/notes'], ['sh', '-c', 'cat /srv/private/notes']]) {
      const r = await exec(command);
      assert.equal(r.isError, true, r.text);
      assert.match(r.text, /WARDEN_DENIED[\s\S]*no-private/, r.text);
    }
  });

  test('.?, .*, \\.? and brace words that make .. are refused; the file is never printed', async () => {
    for (const script of [
      'cat /srv/public/.?/private/notes',
      'cat /srv/public/.*/private/notes',
      'cat /srv/public/\\.?/private/notes',
      'cat /srv/public/.[.]/private/notes',
      'cat < /srv/public/.?/private/notes',
    ]) {
      const r = await exec(['sh', '-c', script]);
      assert.equal(r.isError, true, `${script}: ${r.text}`);
      assert.match(r.text, /WARDEN_DENIED[\s\S]*no-private[\s\S]*may expand to \.\./, script);
      assert.doesNotMatch(r.text, new RegExp(PRIVATE), script);
    }
    for (const script of ['cat /srv/public/{.,x}./private/notes', 'cat /srv/public{/../private/notes,}']) {
      const r = await exec(['bash', '-c', script]);
      assert.equal(r.isError, true, `${script}: ${r.text}`);
      assert.doesNotMatch(r.text, new RegExp(PRIVATE), script);
    }
  });

  test('patterns that cannot make .. still run', async () => {
    const r = await exec(['sh', '-c', 'cat /srv/public/*']);
    assert.equal(r.isError, false, r.text);
    assert.match(r.text, /public-notes/);
    const dotted = await exec(['sh', '-c', 'cat /srv/public/.notes*']);
    assert.equal(dotted.isError, false, dotted.text);
    assert.match(dotted.text, /old-notes/);
  });
});
