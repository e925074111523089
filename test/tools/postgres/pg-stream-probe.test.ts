/**
 * src/pg-stream-probe.ts: pg loaded after it chooses Node's sockets without its probe for
 * Cloudflare Workers loading Node's fetch (undici), leaves no `navigator` behind, and still
 * connects. Each case runs in a fresh Node process (module loading is process-wide).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { pathToFileURL } from 'node:url';
import { join } from 'node:path';
import { REPO_ROOT } from '../../support/repo.js';

const PROBE = pathToFileURL(join(REPO_ROOT, 'dist', 'src', 'pg-stream-probe.js')).href;

/** Run an ES module text in a fresh Node in the repo (so `pg` resolves); its stdout, parsed. */
function inFreshNode(code: string): Record<string, unknown> {
  const r = spawnSync(process.execPath, ['--input-type=module', '-e', code], { cwd: REPO_ROOT, encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  return JSON.parse(r.stdout) as Record<string, unknown>;
}

const UNDICI = "process.moduleLoadList.filter((m) => m.includes('undici')).length";

test('pg alone loads Node\'s fetch on Node 20 (the cost the probe module spares), after the probe module it does not', () => {
  const plain = inFreshNode(`await import('pg'); console.log(JSON.stringify({ undici: ${UNDICI}, navigator: typeof globalThis.navigator }));`);
  const probed = inFreshNode(`await import(${JSON.stringify(PROBE)}); const pg = (await import('pg')).default; const s = (await import('pg/lib/stream.js')).default.getStream(false);
    console.log(JSON.stringify({ undici: ${UNDICI}, navigator: typeof globalThis.navigator, socket: s.constructor.name, client: typeof pg.Client }));`);
  if (plain.navigator === 'undefined') assert.ok((plain.undici as number) > 0, 'without the probe module, pg loads undici');
  assert.deepEqual(probed, { undici: 0, navigator: plain.navigator, socket: 'Socket', client: 'function' });
});

test('a navigator the runtime already has is left as it was', () => {
  const r = inFreshNode(`const nav = { userAgent: 'Mine/1' }; Object.defineProperty(globalThis, 'navigator', { value: nav, configurable: true });
    await import(${JSON.stringify(PROBE)}); console.log(JSON.stringify({ same: globalThis.navigator === nav, ua: globalThis.navigator.userAgent }));`);
  assert.deepEqual(r, { same: true, ua: 'Mine/1' });
});
