/**
 * End to end: a read-only grant (`ps, cat, find, ...` under `paths:`; through `warden serve`, the
 * real MCP client and a real OpenSSH sshd). An application of the login user keeps
 * `DATABASE_URL=postgres://app:PASSWORD@db/app` in its environment; `ps eww` printed it to the
 * agent (output masking then knew secret-looking names, not a password inside a URL; it now
 * masks a URL's password, config-secrets.ts, but an environment holds secrets of other shapes).
 * Now `ps e` in any spelling is refused before any session starts unless the grant says
 * `environment: true`, where it runs and shows the environment (the URL's password masked). find's `-newer NAME` with a bare name (a file of the login folder) is refused too.
 */
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { rmSync } from 'node:fs';
import { after, before, describe, test } from 'node:test';
import { startSshd, type Sshd } from '../support/sshd.js';
import { loginFolder, sshAllowPolicy, startSshWarden, type SshWarden } from '../support/ssh-warden.js';

const SECRET = `rt-${process.pid}-hunter2`;
const URL = `postgres://app:${SECRET}@db.internal/app`;
let sshd: Sshd;
let plain: SshWarden;
let granted: SshWarden;
let app: ChildProcess;
let argvApp: ChildProcess;
const ARGV_SECRET = `argv-${process.pid}-Zq7`;
let BASE = '';

before(async () => {
  sshd = await startSshd();
  BASE = loginFolder(sshd, 'wrpsenv-', { 'app.log': 'started\n' });
  // The "application": a process of the login user with a database URL in its environment.
  app = spawn('sleep', ['300'], { uid: sshd.uid, gid: sshd.gid, env: { PATH: process.env.PATH ?? '/usr/bin:/bin', DATABASE_URL: URL }, stdio: 'ignore' });
  // Another, with a token on its command line (a shell that stays: its argv holds the word).
  argvApp = spawn('sh', ['-c', 'sleep 300; :', 'app', ARGV_SECRET], { uid: sshd.uid, gid: sshd.gid, env: { PATH: process.env.PATH ?? '/usr/bin:/bin' }, stdio: 'ignore' });
  const P = `{ paths: [${BASE}] }`;
  [plain, granted] = await Promise.all([
    startSshWarden(sshd, sshAllowPolicy('read-only', `{ ps: ${P}, cat: { paths: [${BASE}, /proc] }, find: ${P}, grep: ${P} }`)),
    startSshWarden(sshd, sshAllowPolicy('env-granted', `{ ps: { paths: [${BASE}], environment: true }, cat: { paths: [/proc, /proc/${argvApp.pid}/cmdline], environment: true }, grep: ${P} }`)),
  ]);
});

after(async () => {
  app?.kill();
  argvApp?.kill();
  await plain?.close();
  await granted?.close();
  await sshd?.stop();
  if (BASE) rmSync(BASE, { recursive: true, force: true });
});

describe('ssh_run: ps e shows other processes\' environment only where the grant says environment: true', () => {
  test('control: under environment: true, ps eww shows the application\'s database URL, its password masked', async () => {
    const out = await granted.ran(`ps eww -u ${sshd.user}`);
    assert.ok(out.includes(URL.replace(SECRET, '***')), `the environment is listed: ${out.slice(0, 400)}`);
    assert.equal(out.includes(SECRET), false, 'the URL password is masked');
  });

  test('ps e in any spelling is refused before any session; ps aux still runs and shows no environment', async () => {
    for (const line of ['ps eww', `ps eww -u ${sshd.user}`, 'ps auxeww', 'ps -ef e', 'ps -o pid,args e', `ps -u ${sshd.user} xe`]) {
      await plain.refused(line, /the BSD e modifier, or the environ column\) prints every listed process's environment.*does not say environment: true/);
    }
    const out = await plain.ran(`ps aux`);
    assert.match(out, /sleep 300/);
    assert.equal(out.includes(SECRET), false);
  });

  test('find -newer with a bare name (the login folder\'s) is refused; an absolute reference under the prefix runs', async () => {
    await plain.refused(`find ${BASE} -newer app -print`, /find file argument 'app' is not an absolute path/);
    await plain.refused(`find ${BASE} -samefile passwd`, /find file argument 'passwd' is not an absolute path/);
    assert.equal(await plain.ran(`find ${BASE} -samefile ${BASE}/app.log`), `${BASE}/app.log\n`);
  });

  test('/proc/PID/environ under a grant whose paths: reach /proc: read only where the grant says environment: true', async () => {
    const environ = `/proc/${app.pid}/environ`;
    const environOut = await granted.ran(`cat ${environ}`);
    assert.ok(environOut.includes(URL.replace(SECRET, '***')) && !environOut.includes(SECRET), 'control: the file holds the database URL, its password masked');
    await plain.refused(`cat ${environ}`, /a process's environment \(its secrets\).*does not say environment: true/);
    await plain.refused('cat /proc/self/environ', /a process's environment/);
    assert.match(await plain.ran('cat /proc/loadavg'), /^\d+\.\d+ /);
  });

  test("a process's argv and open files under a grant of /proc: read only where its paths: name them", async () => {
    const cmdline = `/proc/${argvApp.pid}/cmdline`;
    assert.ok((await granted.ran(`cat ${cmdline}`)).includes(ARGV_SECRET), 'control: a grant naming the file reads the token in argv');
    await plain.refused(`cat ${cmdline}`, /a process's command line \(its secrets\).*only when its paths: name \/proc\/\d+\/cmdline/);
    for (const line of [`cat /proc/${argvApp.pid}/fd/0`, 'cat /proc/self/fd/0', 'cat /dev/stdin']) {
      await plain.refused(line, /an open file of a process|a process's open files/);
    }
    await granted.refused(`cat /proc/${app.pid}/cmdline`, /a process's command line/);
    assert.match(await plain.ran('cat /proc/meminfo'), /^MemTotal:/);
  });
});
