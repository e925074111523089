/**
 * End to end (through `warden serve`, the real MCP client and a real OpenSSH sshd): an allow of
 * ssh_run with no `shell:` block, and a deny on `touch`. A shell given a script file whose text
 * touches a marker used to pass the deny, which never read the file; now a shell running a
 * script file, a sourced file or a program run by a path runs any program to a deny rule:
 * refused before any session starts, and the marker never appears. The control shows the script
 * really writes the marker; `bash -c 'ls'` (inline text, judged word by word) still runs.
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
let SCRIPT = '';

before(async () => {
  sshd = await startSshd();
  BASE = mkdtempSync(join(tmpdir(), 'wshs-'));
  chmodSync(BASE, 0o777);
  chownToLogin(BASE, sshd);
  MARKER = join(BASE, 'pwned-script');
  SCRIPT = join(BASE, 'x.sh');
  writeFileSync(SCRIPT, `touch ${MARKER}\n`);
  chmodSync(SCRIPT, 0o755);
  chownToLogin(SCRIPT, sshd);
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

/** Refused before any session reached the host (SshWarden.refused). */
const refused = (command: string, mentions: RegExp): Promise<void> => sw.refused(command, mentions);

describe('ssh_run: a deny on touch refuses shells given a script file', () => {
  test('control: the script really writes the marker', () => {
    const r = spawnSync('bash', [SCRIPT], { encoding: 'utf8' });
    assert.equal(r.status, 0, r.stderr);
    assert.equal(existsSync(MARKER), true);
    rmSync(MARKER);
  });

  test('bash x.sh, sh -c ". x.sh", bash < x.sh and the script run by its path are refused; the marker never appears', async () => {
    await refused(`bash ${SCRIPT}`, /bash runs the script file .*whose code Warden does not read/);
    await refused(`sh -c '. ${SCRIPT}'`, /runs the script file .* in the shell/);
    await refused(`bash < ${SCRIPT}`, /standard input/);
    await refused(SCRIPT, /named by a path outside the system's program folders/);
    assert.equal(existsSync(MARKER), false, 'no script ran');
  });

  test("bash -c 'ls' still runs", async () => {
    const r = await sw.run(`bash -c 'ls ${BASE}'`);
    assert.equal(r.isError, false, r.text);
    const s = r.structured as { exit_code: number | null; stdout: string; stderr: string };
    assert.equal(s.exit_code, 0, s.stderr);
    assert.match(s.stdout, /x\.sh/);
  });
});
