/**
 * Red team: SameSite ignores ports, so a page on another port of this host is same-site with the
 * UI and the browser sends the reviewer's cookie with that page's `<img>`, `<script>` and no-cors
 * fetches (GETs, no Origin header). Warden served them with the reviewer's authority: each
 * `/ui/events` opened a stream counted against the session (held open by a browser without
 * opaque-response blocking, so the reviewer's own pages got 429; Chromium drops it at the
 * headers), and any page or search could be loaded as a subresource (its timing and load/error
 * events leak what transcripts hold). The headers here are the ones Chromium sends
 * (test/e2e/ui-origin-ports.test.ts reads them, and Warden's answers, in the browser).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { request, type IncomingMessage } from 'node:http';
import { join } from 'node:path';
import { openSqliteStore } from '../../src/recorder/index.js';
import { startStandaloneUi } from '../../src/cli/ui-serve.js';
import { MAX_STREAMS_PER_SESSION } from '../../src/ui/live.js';
import { seedUi } from './fixtures.js';

async function setup(t: { after: (fn: () => unknown) => void }) {
  const dir = mkdtempSync(join(tmpdir(), 'warden-ui-fm-'));
  const store = openSqliteStore(join(dir, 'w.db'));
  await seedUi(store);
  const ui = await startStandaloneUi({ store, log: () => undefined }, { host: '127.0.0.1', port: 0 });
  const opened: IncomingMessage[] = [];
  t.after(async () => {
    for (const s of opened) s.destroy();
    await ui.close();
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  });
  const origin = new URL(ui.url).origin;
  const r = await fetch(ui.loginUrl, { redirect: 'manual' });
  const cookie = (r.headers.get('set-cookie') ?? '').split(';')[0] ?? '';
  // node:http, not fetch: fetch (undici) rewrites Sec-Fetch-Mode to cors. A stream stays open until the end.
  const get = (path: string, meta: Record<string, string>) =>
    new Promise<number>((resolve, reject) => {
      const req = request(`${origin}${path}`, { headers: { cookie, ...meta } }, (res) => {
        if (res.statusCode === 200 && path === '/ui/events') opened.push(res);
        else res.resume();
        resolve(res.statusCode ?? 0);
      });
      req.on('error', reject).end();
    });
  return { get };
}

const sameSite = (mode: string, dest: string) => ({ 'sec-fetch-site': 'same-site', 'sec-fetch-mode': mode, 'sec-fetch-dest': dest });
const own = { 'sec-fetch-site': 'same-origin', 'sec-fetch-mode': 'cors', 'sec-fetch-dest': 'empty' };

test('another port\'s <img> cannot hold the reviewer\'s live streams', { timeout: 20_000 }, async (t) => {
  const { get } = await setup(t);
  for (let i = 0; i < MAX_STREAMS_PER_SESSION; i++) assert.equal(await get('/ui/events', sameSite('no-cors', 'image')), 403);
  assert.equal(await get('/ui/events', own), 200, 'the reviewer\'s own page still gets its stream');
  assert.equal(await get('/ui/events', sameSite('navigate', 'document')), 403, 'not even as a page load');
});

test('UI pages are served to another origin only as a followed link, never as a subresource', { timeout: 20_000 }, async (t) => {
  const { get } = await setup(t);
  assert.equal(await get('/ui/?q=Alice', sameSite('no-cors', 'script')), 403);
  assert.equal(await get('/ui/sessions/sess-alpha', sameSite('no-cors', 'image')), 403);
  assert.equal(await get('/ui/approvals?fragment=1', sameSite('cors', 'empty')), 403);
  assert.equal(await get('/ui/sessions/sess-alpha', sameSite('navigate', 'iframe')), 403, 'framed');
  assert.equal(await get('/ui/sessions/sess-alpha', { 'sec-fetch-site': 'cross-site', 'sec-fetch-mode': 'no-cors', 'sec-fetch-dest': 'image' }), 403);
  // What still works: a followed link, the reviewer's own pages and fragments, a typed URL, a non-browser client.
  assert.equal(await get('/ui/sessions/sess-alpha', sameSite('navigate', 'document')), 200);
  assert.equal(await get('/ui/sessions/sess-alpha?fragment=1', own), 200);
  assert.equal(await get('/ui/?q=Alice', { 'sec-fetch-site': 'none', 'sec-fetch-mode': 'navigate', 'sec-fetch-dest': 'document' }), 200);
  assert.equal(await get('/ui/static/app.js', { 'sec-fetch-site': 'same-origin', 'sec-fetch-mode': 'no-cors', 'sec-fetch-dest': 'script' }), 200);
  assert.equal(await get('/ui/sessions/sess-alpha', {}), 200);
});
