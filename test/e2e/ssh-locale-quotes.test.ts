/**
 * End to end, red team: a program that quotes a line of the file it read in its error message
 * (`date -f FILE`: `date: invalid date '...'`) had that line masked like any other text, but only
 * in the C locale. On a host whose sessions get a UTF-8 locale (PAM's /etc/default/locale, here
 * sshd's SetEnv LANG=C.UTF-8) GNU tools quote with ‘ and ’, and the masker knew neither as a
 * quote: `‘DB_PASSWORD=x’` had no blank or ASCII quote before its name, and in `invalid date ‘
 * password: x’` the text after `date:` ran on over the ‘ and took the name with it. Through a
 * real sshd: now typographic quotes (‘ ’ “ ” « » ‹ › „ ‚ 「 」 『 』) end and open values as ASCII
 * quotes do, and both values are masked.
 */
import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { startSshd, type Sshd } from '../support/sshd.js';
import { loginFolder, sshAllowPolicy, startSshWarden, type SshWarden } from '../support/ssh-warden.js';

let sshd: Sshd;
let sw: SshWarden;
let APP = '';

before(async () => {
  sshd = await startSshd({ setEnv: { LANG: 'C.UTF-8' } });
  const base = loginFolder(sshd, 'wsshloc-', { 'app/.env': 'DB_PASSWORD=hunter2-env-line\n', 'app/app.yaml': 'db:\n  password: hunter2-yaml-line\n', 'app/dates': '2024-05-01\n' });
  APP = join(base, 'app');
  sw = await startSshWarden(sshd, sshAllowPolicy('sre-dates', `{ date: { paths: [${APP}] } }`));
});

after(async () => {
  await sw?.close();
  await sshd?.stop();
  if (APP) rmSync(join(APP, '..'), { recursive: true, force: true });
});

describe('ssh_run: a line quoted with typographic quotes in an error message', () => {
  test('date -f of a .env and a YAML file in a UTF-8 locale shows no value', async () => {
    for (const f of ['.env', 'app.yaml']) {
      const r = await sw.run(`date -f ${APP}/${f}`);
      const s = r.structured as { stderr: string };
      assert.match(s.stderr, /invalid date ‘/, `${f}: the host quotes with ‘ ’ (UTF-8 locale): ${s.stderr}`);
      assert.doesNotMatch(r.text + s.stderr, /hunter2/, `${f}: ${s.stderr}`);
      assert.match(s.stderr, /‘(?:DB_PASSWORD=|  password: )\*\*\*/, s.stderr);
    }
  });

  test('dates that parse are printed as before', async () => {
    assert.match(await sw.ran(`date -u -f ${APP}/dates +%F`), /^2024-05-01\n$/);
  });
});
