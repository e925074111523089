/**
 * End to end (through `warden serve`, the real MCP client and a real OpenSSH sshd, whose login
 * shell runs `sh`, dash here): an allow of ssh_run with no `shell:` block and a deny on `touch`.
 * Scripts given to `sh -c` and `bash -c` that hid touch from Warden's bash grammar (a pattern
 * expansion's `$(..)`, `[ a || cmd ]`, dash's reading of `$'..'` and `[[ .. ]]`, a value read as
 * arithmetic) passed the deny and touched the marker on the host; now they are refused before
 * any session starts. The control shows each script really touches the marker in the shell that
 * runs it; ordinary scripts next to them still run.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { quoteWord } from '../../tools/shared/shell/index.js';
import { chownToLogin, startSshd, type Sshd } from '../support/sshd.js';
import { startSshWarden, type SshWarden } from '../support/ssh-warden.js';

let sshd: Sshd;
let sw: SshWarden;
let BASE = '';
let MARKER = '';

before(async () => {
  sshd = await startSshd();
  BASE = mkdtempSync(join(tmpdir(), 'wspd-'));
  chmodSync(BASE, 0o777);
  chownToLogin(BASE, sshd);
  MARKER = join(BASE, 'pwned');
  const policy = `
rules:
  - id: anything
    effect: allow
    who: { groups: [sre] }
    tool: ssh_run
    on: [web-1]
  - id: no-touch
    effect: deny
    tool: ssh_run
    shell: { programs: { touch: {} } }
`;
  sw = await startSshWarden(sshd, policy);
});

after(async () => {
  await sw?.close();
  await sshd?.stop();
  if (BASE) rmSync(BASE, { recursive: true, force: true });
});

/** [shell, script]: each hides touch from a bash grammar that reads the text as tree-sitter-bash does. */
const attacks = (): [shell: 'sh' | 'bash', script: string][] => [
  ['sh', `x=a; echo \${x#$(tou""ch ${MARKER})}`],
  ['bash', `true; [ a || tou""ch ${MARKER} ]`],
  ['sh', `echo $'a\\' ; to\\uch ${MARKER} #'`],
  ['sh', `true; [[ a || tou""ch ${MARKER} ]]`],
  ['bash', `x='a[$(tou""ch ${MARKER})]'; echo $((x))`],
];

describe('ssh_run: a deny on touch sees what sh and bash run', () => {
  test('control: each script really touches the marker in the shell that runs it (sh is dash)', () => {
    for (const [shell, script] of attacks()) {
      const r = spawnSync(shell === 'sh' ? 'dash' : 'bash', ['-c', script], { cwd: BASE, encoding: 'utf8' });
      assert.equal(existsSync(MARKER), true, `${shell} -c ${script}: ${r.stderr}`);
      rmSync(MARKER);
    }
  });

  test('refused before any session starts; the marker never appears', async () => {
    for (const [shell, script] of attacks()) {
      await sw.refused(`${shell} -c ${quoteWord(script)}`, /does not parse, so it may run a denied program|Program touch .*is denied/);
    }
    assert.equal(existsSync(MARKER), false, 'nothing touched the marker');
  });

  test('neighbours still run: a pattern of plain text, an ordinary [ ], [[ ]] under bash', async () => {
    assert.equal(await sw.ran(`sh -c ${quoteWord('x=a.b; echo ${x%.*}')}`), 'a\n');
    assert.equal(await sw.ran(`sh -c ${quoteWord('[ -n a ] && echo ok')}`), 'ok\n');
    assert.equal(await sw.ran(`bash -c ${quoteWord('[[ -n a ]] && echo "$((1 + 1))"')}`), '2\n');
  });
});
