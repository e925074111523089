/**
 * kubectl_logs lets the agent choose where its window starts (tail_lines, since_s). The masker
 * reads a value on the line after its name (`password: |` then the value, a JSON value on the
 * next line, a quoted value running on): a window starting between the name and the value
 * showed the value with no name before it, so nothing masked it. The lines just before the
 * window are read too and masked with it; what the window shows is the same.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { kubectlLogsTool } from '../../../tools/kubernetes/kubectl-logs.js';
import { CONTEXT_LINES, MOVED_LINES } from '../../../tools/kubernetes/log-window.js';
import { testCluster } from '../../support/kube-apiserver/test-connector.js';

const k = testCluster('log-window');

const LINES = [
  'starting',
  'config:',
  '  db:',
  '    password: |',
  '      LEAK-block-7f3a',
  '    user: app',
  '{',
  '  "apiToken":',
  '    "LEAK-json-91bc"',
  '}',
  'sentry:',
  '  dsn:',
  '    LEAK-dsn-44d0',
  'ready',
];
// One line every 10 s, the last 10 s old.
const logs = LINES.map((line, i) => ({ line, ageSeconds: (LINES.length - i) * 10 }));

async function read(pod: string, o: { tail_lines?: number; since_s?: number }): Promise<string> {
  const tool = kubectlLogsTool(() => k.connector);
  const input = { connection: 'prod', namespace: 'shop', pod, container: 'app', ...o };
  const facts = await tool.parse(input as never, k.parseCtx);
  const r = await tool.execute(input as never, facts, k.ctx);
  assert.equal(r.kind, 'text');
  return r.kind === 'text' ? r.streams.log! : '';
}

test('a window starting between a name and its value: the value is masked (tail_lines)', async () => {
  k.server.store.addPod({ namespace: 'shop', name: 'cfg-0', labels: { app: 'web' }, containers: [{ name: 'app', logs }] });
  for (let tail = 1; tail <= LINES.length; tail++) {
    const out = await read('cfg-0', { tail_lines: tail });
    assert.ok(!out.includes("LEAK"), `tail_lines ${tail}: ${out}`);
  }
});

test('a window starting between a name and its value: the value is masked (since_s)', async () => {
  k.server.store.addPod({ namespace: 'shop', name: 'cfg-1', labels: { app: 'web' }, containers: [{ name: 'app', logs }] });
  for (let i = 1; i < LINES.length; i++) {
    const out = await read('cfg-1', { since_s: i * 10 + 5 });
    assert.ok(!out.includes('LEAK'), `since_s ${i * 10 + 5}: ${out}`);
  }
});

test('the window shows what was asked: the last lines, no earlier ones', async () => {
  const plain = Array.from({ length: 30 }, (_, i) => ({ line: `GET /item/${i} 200`, ageSeconds: 300 - i * 10 }));
  k.server.store.addPod({ namespace: 'shop', name: 'plain-0', labels: { app: 'web' }, containers: [{ name: 'app', logs: plain }] });
  assert.equal(await read('plain-0', { tail_lines: 2 }), 'GET /item/28 200\nGET /item/29 200\n');
  assert.equal(await read('plain-0', { since_s: 25 }), 'GET /item/28 200\nGET /item/29 200\n');
  assert.equal(await read('plain-0', { tail_lines: 100 }), plain.map((l) => `${l.line}\n`).join(''));
});

test('the log moves on between the two reads: the window is found by its timestamps, or nothing is returned', async () => {
  const lines = Array.from({ length: 30 }, (_, i) => ({ line: i === 26 ? 'password:' : i === 27 ? '  LEAK-moved-0c1d' : `line ${i}`, ageSeconds: 300 - i * 10 }));
  k.server.store.addPod({ namespace: 'shop', name: 'busy-0', labels: { app: 'web' }, containers: [{ name: 'app', logs: lines }] });
  const append = (n: number) => () => {
    for (let i = 0; i < n; i++) lines.push({ line: `later ${i}`, ageSeconds: 0 });
  };
  // The second read (the lines before the window) comes after 5, or as many as MOVED_LINES,
  // more lines (a busy container): still found.
  for (const n of [5, MOVED_LINES]) {
    lines.splice(30);
    k.server.onPodRequest('log', 'shop', 'busy-0', () => k.server.onPodRequest('log', 'shop', 'busy-0', append(n)));
    assert.equal(await read('busy-0', { tail_lines: 3 }), '  ***\nline 28\nline 29\n', `${n} lines later`);
  }
  // After many more, the window's lines are no longer among those read; after exactly as many
  // as the lines read before it, they are its first lines, with nothing before them (not the
  // log's start); after a few more than MOVED_LINES, fewer lines than wanted lie before them:
  // nothing is returned.
  for (const n of [MOVED_LINES + 200, 3 + CONTEXT_LINES + MOVED_LINES, MOVED_LINES + 5]) {
    lines.splice(30);
    k.server.onPodRequest('log', 'shop', 'busy-0', () => k.server.onPodRequest('log', 'shop', 'busy-0', append(n)));
    await assert.rejects(read('busy-0', { tail_lines: 3 }), (e: Error & { code?: string }) => {
      assert.equal(e.code, 'WARDEN_BACKEND_ERROR', `${n} lines later`);
      assert.match(e.message, /could not be read to check that no value begun there runs into it/);
      assert.ok(!e.message.includes('LEAK'));
      return true;
    });
  }
  // A log shorter than the lines read before the window: its start is there, no refusal.
  k.server.store.addPod({ namespace: 'shop', name: 'short-0', labels: { app: 'web' }, containers: [{ name: 'app', logs: [{ line: 'password:', ageSeconds: 20 }, { line: '  LEAK-short-5b2e', ageSeconds: 10 }] }] });
  assert.equal(await read('short-0', { tail_lines: 1 }), '  ***\n');
  assert.equal(await read('short-0', { since_s: 15 }), '  ***\n');
});
