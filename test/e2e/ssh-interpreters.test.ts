/**
 * End to end (through `warden serve`, the real MCP client and a real OpenSSH sshd): an allow of
 * ssh_run with no `shell:` block, and a deny on `touch` and `sh`. `python3 -c` whose code touches a
 * marker without naming touch or sh (it opens the file itself) used to pass the deny, which judged
 * interpreter code by its words; now an interpreter given code runs any program to a deny rule:
 * refused before any session starts, and the marker never appears. The control shows the code
 * really writes the marker; `python3 --version` still runs.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { chownToLogin, startSshd, type Sshd } from '../support/sshd.js';
import { startSshWarden, type SshWarden } from '../support/ssh-warden.js';

let sshd: Sshd;
let sw: SshWarden;
let BASE = '';
let MARKER = '';
const code = (): string => `open(${JSON.stringify(MARKER)}, "w").close()`;

before(async () => {
  sshd = await startSshd();
  BASE = mkdtempSync(join(tmpdir(), 'wint-'));
  chmodSync(BASE, 0o777);
  chownToLogin(BASE, sshd);
  MARKER = join(BASE, 'pwned-interp');
  writeFileSync(join(BASE, 'x.py'), `${code()}\n`);
  chownToLogin(join(BASE, 'x.py'), sshd);
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
    shell: { programs: { touch: {}, sh: {} } }
`;
  sw = await startSshWarden(sshd, policy);
});

after(async () => {
  await sw?.close();
  await sshd?.stop();
  if (BASE) rmSync(BASE, { recursive: true, force: true });
});

/** Refused before any session reached the host (SshWarden.refused). */
const refused = (command: string, mentions: RegExp): Promise<void> => sw.refused(command, mentions);

describe('ssh_run: a deny on touch and sh refuses interpreters given code', () => {
  test('control: the code really writes the marker', () => {
    const r = spawnSync('python3', ['-c', code()], { encoding: 'utf8' });
    assert.equal(r.status, 0, r.stderr);
    assert.equal(existsSync(MARKER), true);
    rmSync(MARKER);
  });

  test('python3 -c, a script, stdin and perl -e are refused; the marker never appears', async () => {
    await refused(`python3 -c '${code()}'`, /python3 -c .*runs code Warden does not read/);
    await refused(`/usr/bin/python3 ${join(BASE, 'x.py')}`, /runs the script file/);
    await refused(`python3 < ${join(BASE, 'x.py')}`, /reads code on standard input/);
    await refused(`perl -e 'open(F, ">", "${MARKER}")'`, /perl -e/);
    assert.equal(existsSync(MARKER), false, 'no interpreter ran');
  });

  test('a version check still runs', async () => {
    const r = await sw.run('python3 --version');
    assert.equal(r.isError, false, r.text);
    const s = r.structured as { exit_code: number | null; stdout: string; stderr: string };
    assert.equal(s.exit_code, 0, s.stderr);
    assert.match(s.stdout + s.stderr, /^Python 3\./);
  });
});
