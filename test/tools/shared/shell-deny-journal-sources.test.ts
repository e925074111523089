/**
 * journalctl's other journals under a deny rule with `paths:`. `-M`/`--machine` reads a
 * container's journal, `--namespace` another namespace's, `-m`/`--merge` every journal there is
 * (/var/log/journal/remote too), in folders no word names. An allow with paths: refused them
 * (shell-journal-sources.test.ts), but a deny of /var/log/journal/remote did not match
 * `journalctl -m`: no word reached it. Now they match every deny with paths: (fail closed).
 */
import assert from 'node:assert/strict';
import { before, test } from 'node:test';
import { initShellParser, parseShell, shellCondition } from '../../../tools/shared/shell/index.js';

const CALL = { tool: 'ssh_run', connection: 'web-1', args: {} };
const judge = (block: unknown, cmd: string) => shellCondition.compile(block, { id: 'd', effect: 'deny' })(parseShell(cmd), CALL);
const REMOTE = { programs: { journalctl: { paths: ['/var/log/journal/remote'] } } };
const JOURNALS = { programs: { journalctl: { paths: ['/var/log/journal'] } } };

before(async () => {
  await initShellParser();
});

test('journalctl -M, --namespace, -m match a deny with paths: they may read any journal', () => {
  for (const block of [REMOTE, JOURNALS]) {
    for (const cmd of ['journalctl -m', 'journalctl --merge -n 5', 'journalctl --mer', 'journalctl -mn5', 'journalctl -n5 -m', 'journalctl -b -m',
      'journalctl -M web', 'journalctl --machine=web', 'journalctl -eMweb', 'journalctl --namespace=audit', "journalctl --namespace='*'",
      'journalctl --names=x', 'journalctl -D /srv/x -m', 'sudo journalctl -m', 'echo x; journalctl --user -m']) {
      const r = judge(block, cmd);
      assert.equal(r.matched, true, `${cmd} must match the deny: ${r.why}`);
      assert.match(r.why, /reads journals/, cmd);
    }
  }
});

test('neighbours: the default journal, values that look like the options, and a deny without paths: of others', () => {
  for (const cmd of ['journalctl -u nginx -n 5', 'journalctl --user -n 5', 'journalctl -u merge', 'journalctl -t machine', 'journalctl -g -m',
    'journalctl -n5m', 'journalctl -c -m', 'journalctl _MACHINE_ID=x', 'journalctl -D /var/log/journal/local -n 5']) {
    const r = judge(REMOTE, cmd);
    assert.equal(r.matched, false, `${cmd} must not match the deny: ${r.why}`);
  }
  // A deny of another program's paths is not met by journalctl -m; a named denied folder still matches.
  assert.equal(judge({ programs: { cat: { paths: ['/var/log/journal'] } } }, 'journalctl -m').matched, false);
  assert.equal(judge(REMOTE, 'journalctl -D /var/log/journal/remote').matched, true);
});
