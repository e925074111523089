/**
 * Red team, over real HTTP on both real stores: an agent's large results cannot make a reviewer's
 * session page (or each live refresh of it) read them whole. The timeline read its 101 calls in
 * full, every argument and result (1 MiB each by default, more when max_result_bytes is raised),
 * and the session's chain records with their intent and outcome bodies, to draw previews of a few
 * thousand characters: a session a reviewer watched cost a read of some 100 MB per refresh, on
 * the event loop that serves agents. The timeline now reads each call's text cut in SQL
 * (sessionCallPreviews) and the records' approval events only (sessionEventRecords); ordinary
 * calls draw exactly as before (the HTML the old code drew is kept in timeline-before.json).
 */
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { openPgStore, openSqliteStore, type ApprovalStore, type TranscriptStore } from '../../src/recorder/index.js';
import { createTestDatabase, type TestDatabase } from '../support/pg-cluster.js';
import { mountUi } from '../../src/cli/ui-serve.js';
import { createUiHandler, type UiStore } from '../../src/ui/index.js';
import { timeline } from '../../src/ui/session-page.js';
import { hostPolicy, originAllowed } from '../../src/server/http-origins.js';
import { seedUi } from './fixtures.js';
import { seedMixed } from './timeline-seed.js';

type Store = TranscriptStore & UiStore & { approvals: ApprovalStore; close(): Promise<void> };
const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
const BEFORE = JSON.parse(readFileSync(join(root, 'test', 'ui', 'timeline-before.json'), 'utf8')) as Record<string, string>;
const dbs: TestDatabase[] = [];
after(async () => {
  for (const db of dbs) await db.drop();
});

async function bothStores(t: { after(fn: () => Promise<void>): void }, prefix: string): Promise<Array<[string, Store]>> {
  const dir = mkdtempSync(join(tmpdir(), `warden-${prefix}-`));
  const sqlite = openSqliteStore(join(dir, 'w.db')) as unknown as Store;
  const db = await createTestDatabase({ prefix });
  dbs.push(db);
  await db.query(`GRANT ALL ON SCHEMA public TO ${db.role}`);
  const pg = (await openPgStore(db.url, { recoverEveryMs: 60_000 })) as unknown as Store;
  t.after(async () => {
    await sqlite.close();
    await pg.close();
    rmSync(dir, { recursive: true, force: true });
  });
  return [['sqlite', sqlite], ['pg', pg]];
}

/** Ordinary sessions draw exactly as the old timeline drew them, on both stores. */
test('the timeline of ordinary sessions is the same HTML as before, both stores', { timeout: 60_000 }, async (t) => {
  for (const [name, store] of await bothStores(t, 'tlsame')) {
    await seedMixed(store);
    if (name === 'sqlite') await seedUi(store as never);
    for (const id of name === 'sqlite' ? ['mixed', 'sess-alpha', 'sess-evil'] : ['mixed']) {
      const s = await store.sessionInfo(id);
      assert.ok(s);
      assert.equal((await timeline(store, s, 0)).value, BEFORE[id], `${name}: session ${id}`);
    }
    const mixed = await store.sessionInfo('mixed');
    assert.equal((await timeline(store, mixed!, 3)).value, BEFORE['mixed@3'], `${name}: a later page`);
  }
});

test('huge results: one session view and one live refresh read a bounded amount, both stores; the result page shows everything', { timeout: 180_000 }, async (t) => {
  for (const [name, store] of await bothStores(t, 'tlbig')) {
    await seedMixed(store, 3_000_000, 12);
    // Every store read, counted by the characters of what it returns.
    let read = 0;
    const counted = new Proxy(store, {
      get(target, key) {
        const v = Reflect.get(target, key, target) as unknown;
        if (typeof v !== 'function') return v;
        return (...a: unknown[]) => {
          const r = (v as (...x: unknown[]) => unknown).apply(target, a);
          if (r instanceof Promise) return r.then((x: unknown) => ((read += (JSON.stringify(x) ?? '').length), x));
          return r;
        };
      },
    });
    const server = createServer();
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const port = (server.address() as AddressInfo).port;
    const origin = `http://127.0.0.1:${port}`;
    const hosts = hostPolicy('127.0.0.1', port, { allowed_hosts: [], allowed_origins: [] }, '');
    const ui = createUiHandler({ store: counted, baseUrl: origin, log: () => undefined, allowsOrigin: (o) => originAllowed(hosts, o) });
    mountUi(server, ui, hosts);
    try {
      const cookie = ((await fetch(ui.loginUrl(), { redirect: 'manual' })).headers.get('set-cookie') ?? '').split(';')[0]!;
      const get = async (path: string) => {
        read = 0;
        const r = await fetch(`${origin}${path}`, { headers: { cookie } });
        assert.equal(r.status, 200, path);
        return { page: await r.text(), read };
      };
      for (const path of ['/ui/sessions/mixed', '/ui/sessions/mixed?fragment=1']) {
        const { page, read: n } = await get(path);
        // 20 calls drawn; 12 of them hold 3 MB results (36 MB, and as much again in their outcome records).
        assert.ok(n < 1_000_000, `${name} ${path}: the view read ${n} characters from the store`);
        assert.doesNotMatch(page, /TAILMARK/, `${name} ${path}: no big result drawn whole`);
        for (let i = 0; i < 12; i++) {
          assert.match(page, new RegExp(`id="call-m-big-${i}"[\\s\\S]*?RRRRRRRRRR[\\s\\S]*?more characters: <a href="/ui/calls/m-big-${i}/result">page through the full result</a>`), `${name} ${path}: m-big-${i} has a preview and the link`);
        }
        assert.match(page, /id="call-m-plain"[\s\S]*?&quot;row_count&quot;: 1/, `${name}: an ordinary call still drawn`);
        assert.match(page, /approval ap-1/, `${name}: the approval event still drawn`);
      }
      // The full result, paged: its last page ends with the tail no preview shows.
      const last = await get('/ui/calls/m-big-4/result?page=1000000');
      assert.match(last.page, /TAILMARK4/, `${name}: the full result page shows everything`);
      assert.match(last.page, /page 4\d of 4\d \(\d+ characters\)/);
    } finally {
      ui.close();
      server.closeAllConnections();
      await new Promise<void>((r) => server.close(() => r()));
    }
  }
});

test('a big text\'s preview: cut before escaping, never inside a surrogate pair, hidden characters shown, the rest counted', { timeout: 60_000 }, async (t) => {
  const at = new Date(Date.UTC(2026, 10, 27, 9)).toISOString();
  // The stored JSON texts: `"` then the string, so the pair sits at UTF-16 units 3999-4000 of the result (2000-2001 of the args' sql).
  const result = `<script>\u202E&amp;${'a'.repeat(3999 - 15)}😀${'b'.repeat(40_000)}`;
  const sql = `${'s'.repeat(2000 - 8)}😀${'t'.repeat(40_000)}`;
  for (const [name, store] of await bothStores(t, 'tlcut')) {
    await store.openSession({ id: 'cut', principal: { subject: 'a', groups: [], authMethod: 'oidc' }, client: { name: 'c' }, transport: 'http', startedAt: at });
    await store.recordIntent({ id: 'cut-1', sessionId: 'cut', tool: 'query_database', connection: 'shop', args: { sql }, factsSummary: 's', facts: null, decision: 'allow', ruleIds: ['r'], policyVersion: 'v1', startedAt: at });
    await store.recordOutcome('cut-1', { status: 'ok', errorCode: null, result, masking: null, durationMs: 1, endedAt: at });
    const page = (await timeline(store, (await store.sessionInfo('cut'))!, 0)).value;
    assert.doesNotMatch(page, /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/, `${name}: no half of a surrogate pair`);
    assert.doesNotMatch(page, /\u202E/, `${name}: the override is shown as an escape, never drawn`);
    const shownResult = `"<script>\u202E&amp;${'a'.repeat(3999 - 15)}`;
    assert.equal(shownResult.length, 3999);
    assert.ok(page.includes(`&quot;&lt;script&gt;`) && page.includes(`&amp;amp;${'a'.repeat(3999 - 15)}</pre>`), `${name}: the result's head, escaped once, cut before the pair`);
    assert.ok(page.includes(`… truncated, ${[...JSON.stringify(result)].length - [...shownResult].length} more characters: <a href="/ui/calls/cut-1/result">`), `${name}: the rest counted, the full result linked`);
    const shownArgs = `{"sql":"${'s'.repeat(2000 - 8)}`;
    assert.equal(shownArgs.length, 2000);
    assert.ok(page.includes(`${'s'.repeat(2000 - 8)}</pre><div class="cut">… ${[...JSON.stringify({ sql })].length - [...shownArgs].length} more characters: <a class="full-args" href="/ui/calls/cut-1/args">`), `${name}: the arguments' head and the link`);
  }
});
