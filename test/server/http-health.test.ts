/**
 * /healthz and /readyz on a real `serveOverHttp`: no token needed, any Host accepted (probes name
 * the server by its address), nothing in the body but a status word, and /readyz fails when the
 * transcript store cannot answer (a call would not run then either).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { rawRequest } from '../support/http-agent.js';
import { startHttpWarden } from '../support/http-warden.js';

test('health probes: live and ready without a token from any Host; not ready once the store is gone', async (t) => {
  const w = await startHttpWarden({ 'p.yaml': 'rules: []\n' });
  t.after(() => w.stop());
  const probe = (path: string, method = 'GET') => rawRequest(w.url, { method, path, headers: { host: '10.1.2.3:8080' } });

  const live = await probe('/healthz');
  assert.equal(live.status, 200);
  assert.deepEqual(JSON.parse(live.body), { status: 'ok' });
  assert.equal(live.headers['cache-control'], 'no-store');
  const ready = await probe('/readyz');
  assert.equal(ready.status, 200);
  assert.deepEqual(JSON.parse(ready.body), { status: 'ready' });
  assert.equal((await probe('/healthz', 'POST')).status, 405);
  // The MCP endpoint still refuses that Host: only the probes skip the check.
  assert.equal((await probe('/mcp', 'POST')).status, 403);

  // Probes need no token, so they must not let anyone load the store: one question a second.
  const store = w.rt.store;
  const real = store.listSessions.bind(store);
  let asked = 0;
  store.listSessions = (f) => ((asked += 1), real(f));
  await new Promise((r) => setTimeout(r, 1000));
  const burst = await Promise.all(Array.from({ length: 20 }, () => probe('/readyz')));
  assert.ok(burst.every((r) => r.status === 200));
  assert.equal(asked, 1);

  await w.rt.store.close();
  await new Promise((r) => setTimeout(r, 1000)); // readiness is asked of the store at most once a second
  const gone = await probe('/readyz');
  assert.equal(gone.status, 503);
  assert.deepEqual(JSON.parse(gone.body), { status: 'transcript store unavailable' });
  assert.equal((await probe('/healthz')).status, 200, 'the process itself still serves');
});
