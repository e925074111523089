/**
 * Red team, over real HTTP: the session timeline cut each call's arguments and result to a
 * preview, but drew its parsed summary and its masking report whole. A statement within
 * query_database's 20,000 characters that names 4,250 tables (`SELECT 1 FROM t0,t1,...`) parses
 * to a summary of some 54,000 characters (`reads public.t0, public.t1, ...`), and a result whose
 * masked columns are repeated (`SELECT u.*, u.*, ...`, up to PostgreSQL's 1,664 columns) to a
 * report naming each; 100 such calls made every view and every live refresh of a watched session
 * several megabytes. Both are now cut in the timeline with the count of what was left out (the
 * full arguments page shows the whole summary); short ones draw whole, as before.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openSqliteStore } from '../../src/recorder/index.js';
import { startStandaloneUi } from '../../src/cli/ui-serve.js';
import { analyzeSql } from '../../tools/postgres/analysis/index.js';
import { SUMMARY_EXCERPT } from '../../src/ui/session-page.js';

test('a session of calls with huge summaries and masking reports draws a bounded page; short ones are whole', { timeout: 60_000 }, async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'warden-ui-bounded-'));
  const store = openSqliteStore(join(dir, 'w.db'));
  const ui = await startStandaloneUi({ store, log: () => undefined }, { host: '127.0.0.1', port: 0 });
  t.after(async () => {
    await ui.close();
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  });
  const sql = 'SELECT 1 FROM ' + Array.from({ length: 4250 }, (_, i) => `t${i.toString(36)}`).join(',');
  assert.ok(sql.length <= 20_000, 'within query_database\'s statement limit');
  const summary = analyzeSql(sql).summary;
  assert.ok(summary.length > 50_000, `the real parser's summary is ${summary.length} characters`);
  const masking = { columns: Array.from({ length: 1664 }, (_, i) => `email_address_of_customer_${i}:redact`), detectors: {} };
  const at = '2026-11-28T09:00:00.000Z';
  await store.openSession({ id: 'sess-big', principal: { subject: 'agent-x', groups: [], authMethod: 'oidc' }, client: { name: 'bot' }, transport: 'http', startedAt: at });
  for (let i = 0; i < 100; i++) {
    await store.recordIntent({ id: `c${i}`, sessionId: 'sess-big', tool: 'query_database', connection: 'shop', args: { connection: 'shop', sql: 'SELECT 1' }, factsSummary: summary, facts: null, decision: 'allow', ruleIds: ['r'], policyVersion: 'v1', startedAt: at });
    await store.recordOutcome(`c${i}`, { status: 'ok', errorCode: null, result: { rows: [] }, masking, durationMs: 1, endedAt: at });
  }
  // The legitimate neighbour: an ordinary call's summary and report, drawn whole.
  await store.openSession({ id: 'sess-small', principal: { subject: 'agent-x', groups: [], authMethod: 'oidc' }, client: { name: 'bot' }, transport: 'http', startedAt: at });
  await store.recordIntent({ id: 'small', sessionId: 'sess-small', tool: 'query_database', connection: 'shop', args: { connection: 'shop', sql: 'SELECT name, email FROM users' }, factsSummary: 'select; reads public.users', facts: null, decision: 'allow', ruleIds: ['r'], policyVersion: 'v1', startedAt: at });
  await store.recordOutcome('small', { status: 'ok', errorCode: null, result: { rows: [] }, masking: { columns: ['email:partial'], detectors: { email: 2 } }, durationMs: 1, endedAt: at });

  const r = await fetch(ui.loginUrl, { redirect: 'manual' });
  const cookie = (r.headers.get('set-cookie') ?? '').split(';')[0] ?? '';
  const get = async (p: string) => {
    const res = await fetch(new URL(p, ui.url), { headers: { cookie } });
    assert.equal(res.status, 200, p);
    return res.text();
  };
  for (const p of ['/ui/sessions/sess-big', '/ui/sessions/sess-big?fragment=1']) {
    const html = await get(p);
    assert.ok(html.length < 1_500_000, `${p}: ${html.length} characters for 100 calls`);
    assert.match(html, /… \d[\d,]* more characters of the summary/, `${p}: the summary's cut is said`);
    assert.match(html, /… \d[\d,]* more characters of the report/, `${p}: the report's cut is said`);
  }
  // The whole summary is on the call's full-arguments page.
  const args = await get('/ui/calls/c0/args');
  assert.ok(args.includes(summary.slice(-200)), 'the full arguments page shows the summary whole');
  assert.ok(SUMMARY_EXCERPT < summary.length);

  const small = await get('/ui/sessions/sess-small');
  assert.ok(small.includes('select; reads public.users'));
  assert.ok(small.includes('{&quot;columns&quot;:[&quot;email:partial&quot;],&quot;detectors&quot;:{&quot;email&quot;:2}}'), 'a short report is drawn whole');
  assert.doesNotMatch(small, /more characters of the (summary|report)/);
});
