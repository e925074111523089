/**
 * The transcript views (sessions list, a session's timeline, a call's full result) show hidden
 * characters as the approval card and the CLI transcript views do: a hostile agent's right-to-left
 * override or zero-width space in its statement, its client name or a result must not make the
 * page a reviewer audits read otherwise than what ran.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openSqliteStore } from '../../src/recorder/index.js';
import { startStandaloneUi } from '../../src/cli/ui-serve.js';

const HIDDEN = /[\u200b\u200f\u202e\u2066\u0007]/;

test('hidden and bidi characters from an agent are visible escapes in every transcript view', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'warden-ui-hidden-'));
  const store = openSqliteStore(join(dir, 'w.db'));
  const ui = await startStandaloneUi({ store, log: () => undefined }, { host: '127.0.0.1', port: 0 });
  t.after(async () => {
    await ui.close();
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  });
  const at = '2026-11-28T09:00:00.000Z';
  await store.openSession({ id: 'sess-bidi', principal: { subject: 'mal\u200blory', groups: ['ana\u202elysts'], authMethod: 'oidc' }, client: { name: 'claude\u202eedoc', version: '1\u0007' }, transport: 'http', startedAt: at });
  // What ran deletes every row; rendered raw, the override shows "... WHERE id = 1" to the reader.
  const sql = 'DELETE FROM users /*\u202e 1 = di EREHW */';
  await store.recordIntent({ id: 'call-bidi', sessionId: 'sess-bidi', tool: 'query_database', connection: 'shop\u200b', args: { connection: 'shop', sql }, factsSummary: 'DELETE public.users\u2066', facts: null, decision: 'allow', ruleIds: ['r'], policyVersion: 'v1', startedAt: at });
  await store.recordOutcome('call-bidi', { status: 'ok', errorCode: null, result: { rows: [['ok\u200f']], note: 'x'.repeat(5000) }, masking: null, durationMs: 1, endedAt: at });

  const r = await fetch(ui.loginUrl, { redirect: 'manual' });
  const cookie = (r.headers.get('set-cookie') ?? '').split(';')[0] ?? '';
  const origin = new URL(ui.url).origin;
  const get = async (p: string) => {
    const res = await fetch(`${origin}${p}`, { headers: { cookie } });
    assert.equal(res.status, 200, p);
    return res.text();
  };
  for (const p of ['/ui/', '/ui/?fragment=1', '/ui/sessions/sess-bidi', '/ui/sessions/sess-bidi?fragment=1', '/ui/calls/call-bidi/result']) {
    const page = await get(p);
    assert.ok(!HIDDEN.test(page), `${p}: a raw hidden or bidi character reaches the page (${JSON.stringify(page.match(HIDDEN)?.[0])})`);
  }
  const session = await get('/ui/sessions/sess-bidi');
  assert.match(session, /\/\*\\u\{202e\} 1 = di EREHW \*\//, 'the statement reads as stored, the override named');
  assert.match(session, /mal\\u\{200b\}lory/);
  assert.match(session, /claude\\u\{202e\}edoc/);
  assert.match(session, /DELETE public\.users\\u\{2066\}/);
  assert.match(await get('/ui/'), /mal\\u\{200b\}lory/);
  assert.match(await get('/ui/calls/call-bidi/result'), /ok\\u\{200f\}/);
});
