/**
 * End to end, red team: a granted program that rewrites the text it reads takes a secret's name
 * away from its value, so command-output masking (DB_PASSWORD=***) never saw a name. Under a
 * grant of text tools on the app folder, `cut -d= -f2 .env`, `awk -F= '{print $2}'`, `sed
 * 's/.*=//'`, `tr -d =`, `rev`, `fold -w 12`, `paste -s` (a YAML block value joined to its name's
 * line), `base64`, `xxd` and `jq -r .db.password` printed the bare (or encoded) value through a
 * real sshd, also behind `cat .env |`. Now each is refused unless the program's grant says
 * `rewrites: true` (rewriters.ts); a sed script, awk program or jq filter that only prints whole
 * lines or the document still runs, masked.
 */
import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import Database from 'better-sqlite3';
import { startSshd, type Sshd } from '../support/sshd.js';
import { loginFolder, startSshWarden, type SshWarden } from '../support/ssh-warden.js';

const LEAK = 'hunter2';
let sshd: Sshd;
let warden: SshWarden;
let BASE = '';
let APP = '';

const FIXTURES: Record<string, string> = {
  '.env': 'DB_PASSWORD=hunter2-REWRITE-env\nLOG_LEVEL=debug\n',
  'config.json': '{"db":{"host":"db.internal","password":"hunter2-REWRITE-json"}}\n',
  'app.yaml': 'db:\n  host: db.internal\n  password: |\n    hunter2-REWRITE-block\n  port: 5432\n',
};
/** The secret as the rewriters would show it: plain, reversed, in base64 (of the whole file, and from its line start). */
const SHOWN = [LEAK, '2retnuh', Buffer.from(FIXTURES['.env'] as string).toString('base64').slice(0, 24), 'aHVudGVyMi', '6875 6e74'];

async function call(command: string, connection = 'web-1') {
  const r = await warden.w.call('ssh_run', { connection, command });
  return { isError: r.isError, text: r.text + JSON.stringify(r.structured ?? null) };
}

before(async () => {
  sshd = await startSshd();
  BASE = loginFolder(sshd, 'wsshrewrite-', Object.fromEntries(Object.entries(FIXTURES).map(([f, text]) => [`app/${f}`, text])), 0o755);
  APP = join(BASE, 'app');
  const P = JSON.stringify([APP]);
  const policy = `
rules:
  - id: sre-read
    effect: allow
    who: { groups: [sre] }
    tool: ssh_run
    on: [web-1]
    shell:
      pipelines: true
      programs:
        cat: { paths: ${P} }
        cut: { paths: ${P} }
        tr: {}
        rev: { paths: ${P} }
        fold: { paths: ${P} }
        paste: { paths: ${P} }
        base64: { paths: ${P} }
        xxd: { paths: ${P} }
        sed: { paths: ${P} }
        awk: { paths: ${P} }
        jq: { paths: ${P} }
  - id: sre-extract
    effect: allow
    who: { groups: [sre] }
    tool: ssh_run
    on: [web-2]
    shell:
      programs:
        cut: { paths: ${P}, rewrites: true }
`;
  warden = await startSshWarden(sshd, policy, 'web-1', ['web-2']);
});

after(async () => {
  await warden?.close();
  await sshd?.stop();
  if (BASE) rmSync(BASE, { recursive: true, force: true });
});

describe('ssh_run: programs that rewrite text', () => {
  test('a rewrite is refused before anything runs, and nothing leaks', async () => {
    const cmds = [
      `cut -d= -f2 ${APP}/.env`,
      `cat ${APP}/.env | cut -d= -f2`,
      `awk -F= '{print $2}' ${APP}/.env`,
      `sed 's/.*=//' ${APP}/.env`,
      `cat ${APP}/.env | tr -d =`,
      `rev ${APP}/.env`,
      `fold -w 12 ${APP}/.env`,
      `paste -s -d' ' ${APP}/app.yaml`,
      `base64 ${APP}/.env`,
      `xxd ${APP}/.env`,
      `jq -r .db.password ${APP}/config.json`,
    ];
    for (const cmd of cmds) {
      const r = await call(cmd);
      assert.equal(r.isError, true, `${cmd} must be refused, got: ${r.text}`);
      for (const s of SHOWN) assert.ok(!r.text.includes(s), `${cmd} leaks (${s}): ${r.text}`);
      assert.match(r.text, /WARDEN_POLICY_DENIED|denied/i, cmd);
      assert.match(r.text, /rewrites: true/, `${cmd}: the refusal says how to allow it`);
    }
  });

  test('sed, awk and jq that print whole lines or the document still run, masked', async () => {
    const a = await call(`sed -n '1,5p' ${APP}/.env`);
    assert.equal(a.isError, false, a.text);
    assert.match(a.text, /DB_PASSWORD=\*\*\*/);
    const b = await call(`awk 'NR<2' ${APP}/.env`);
    assert.equal(b.isError, false, b.text);
    assert.match(b.text, /DB_PASSWORD=\*\*\*/);
    const c = await call(`jq -c . ${APP}/config.json`);
    assert.equal(c.isError, false, c.text);
    assert.match(c.text, /password\\":\*\*\*/);
    for (const r of [a, b, c]) for (const s of SHOWN) assert.ok(!r.text.includes(s), r.text);
  });

  test('a grant that says rewrites: true chose to show what the program makes of the file', async () => {
    const r = await call(`cut -d= -f1 ${APP}/.env`, 'web-2');
    assert.equal(r.isError, false, r.text);
    assert.match(r.text, /DB_PASSWORD\\nLOG_LEVEL/);
  });

  test('the transcript database holds no secret value', () => {
    const db = new Database(warden.dir.dbPath, { readonly: true });
    try {
      const tables = db.prepare("SELECT name FROM sqlite_master WHERE type = 'table'").all() as { name: string }[];
      const dump = tables
        .map((t) => JSON.stringify(db.prepare(`SELECT * FROM "${t.name}"`).all(), (_k, v: unknown) => (Buffer.isBuffer(v) ? v.toString('latin1') : v)))
        .join('\n');
      for (const s of SHOWN) assert.ok(!dump.includes(s), `the transcript leaks a secret value (${s})`);
    } finally {
      db.close();
    }
  });
});
