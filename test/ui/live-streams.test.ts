/**
 * Red team: the live-update stream (/ui/events) checked the session once, when it opened. A
 * stream outlived logout and expiry (reporting store activity to whoever held it), and one
 * session could open streams without limit (each a socket and a slot in the poll fan-out).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openSqliteStore } from '../../src/recorder/index.js';
import { startStandaloneUi } from '../../src/cli/ui-serve.js';
import { MAX_STREAMS_PER_SESSION } from '../../src/ui/live.js';

async function setup(t: { after: (fn: () => unknown) => void }) {
  const dir = mkdtempSync(join(tmpdir(), 'warden-ui-live-'));
  const store = openSqliteStore(join(dir, 'w.db'));
  const ui = await startStandaloneUi({ store, log: () => undefined }, { host: '127.0.0.1', port: 0 });
  const streams: AbortController[] = [];
  t.after(async () => {
    for (const s of streams) s.abort();
    await ui.close();
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  });
  const origin = new URL(ui.url).origin;
  const r = await fetch(ui.loginUrl, { redirect: 'manual' });
  const cookie = (r.headers.get('set-cookie') ?? '').split(';')[0] ?? '';
  const open = async () => {
    const c = new AbortController();
    streams.push(c);
    return fetch(`${origin}/ui/events`, { headers: { cookie }, signal: c.signal });
  };
  return { origin, cookie, open };
}

test('a live stream ends when its session is logged out', { timeout: 20_000 }, async (t) => {
  const { origin, cookie, open } = await setup(t);
  const stream = await open();
  assert.equal(stream.status, 200);
  const html = await (await fetch(`${origin}/ui/`, { headers: { cookie } })).text();
  const csrf = /name="csrf" value="([^"]+)"/.exec(html)?.[1] ?? '';
  const out = await fetch(`${origin}/ui/logout`, {
    method: 'POST', redirect: 'manual', body: new URLSearchParams({ csrf }),
    headers: { cookie, origin, 'content-type': 'application/x-www-form-urlencoded' },
  });
  assert.equal(out.status, 303);
  const reader = stream.body!.getReader();
  const ended = (async () => {
    for (;;) if ((await reader.read()).done) return true;
  })().catch(() => true);
  const timeout = new Promise<boolean>((resolve) => setTimeout(() => resolve(false), 5000).unref());
  assert.equal(await Promise.race([ended, timeout]), true, 'the stream closed after logout');
});

test('one session opens a bounded number of live streams', { timeout: 20_000 }, async (t) => {
  const { open } = await setup(t);
  for (let i = 0; i < MAX_STREAMS_PER_SESSION; i++) assert.equal((await open()).status, 200);
  const over = await open();
  assert.equal(over.status, 429);
});
