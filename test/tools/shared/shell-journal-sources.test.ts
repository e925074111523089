/**
 * journalctl's other journals under a grant with `paths:` (systemd 252 `journalctl --help`, getopt
 * "hefo:aln::qmb::kD:p:g:c:S:U:t:u:NF:xrM:"): `-M`/`--machine` reads a container's journal,
 * `--namespace=NS` another namespace's (`*`: all), `-m`/`--merge` every journal there is (other
 * machines' and /var/log/journal/remote). No word names where those lie, so they cannot be held
 * to the grant's prefixes: refused under paths: (fail closed), allowed without paths:.
 */
import assert from 'node:assert/strict';
import { before, test } from 'node:test';
import { initShellParser, parseShell, shellCondition } from '../../../tools/shared/shell/index.js';

const CALL = { tool: 'ssh_run', connection: 'web-1', args: {} };
const grant = (journalctl: unknown) => ({ programs: { journalctl } });
const allows = (cmd: string, block: unknown) => shellCondition.compile(block, { id: 'a', effect: 'allow' })(parseShell(cmd), CALL);
const PATHS = grant({ paths: ['/var/log', '/srv/app'] });

before(async () => {
  await initShellParser();
});

test('journalctl -M, --namespace, -m under paths: read journals no prefix holds: refused', () => {
  for (const cmd of ['journalctl -M web', 'journalctl --machine=web', 'journalctl --machine web -n 5', 'journalctl --mach=web',
    'journalctl -u nginx -Mweb', 'journalctl -eMweb', 'journalctl --namespace=audit', 'journalctl --namespace audit', 'journalctl --names=x',
    "journalctl --namespace='*'", 'journalctl -m', 'journalctl --merge', 'journalctl --mer', 'journalctl -mn5', 'journalctl -n5 -m',
    'journalctl -b -m', 'journalctl -n -M web', 'journalctl -D /var/log/journal -m', 'journalctl --user -m', 'journalctl --system --namespace=x']) {
    const r = allows(cmd, PATHS);
    assert.equal(r.matched, false, `${cmd} must be refused`);
    assert.match(r.why, /journals|journal of/, cmd);
  }
});

test('neighbours: the default journal, -D under a prefix, -u, and -M/-m without paths: still pass', () => {
  for (const cmd of ['journalctl -u nginx -n 5', 'journalctl --user -n 5', 'journalctl --system', 'journalctl -D /var/log/journal -n 5',
    'journalctl -u merge', 'journalctl -t machine', 'journalctl -g -m', 'journalctl -n5m', 'journalctl _MACHINE_ID=x', 'journalctl -c -m']) {
    const r = allows(cmd, PATHS);
    assert.equal(r.matched, true, `${cmd}: ${r.why}`);
  }
  for (const cmd of ['journalctl -M web', 'journalctl -m', 'journalctl --namespace=audit']) {
    const r = allows(cmd, grant({}));
    assert.equal(r.matched, true, `${cmd}: ${r.why}`);
  }
});
