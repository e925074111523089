/**
 * kubectl_logs, red team: the window is masked with the 16 lines read just before it
 * (log-window.ts), so a value whose name lies further back was shown bare: a `private_key: |`
 * block (a PEM body, a base64 blob) of more than 16 lines, read with a `tail_lines` or
 * `since_s` starting 17 or more lines into it, printed the rest of the block, which a read of
 * the whole log masks. Now, when the lines read before the window do not reach the log's start,
 * their leading run of continuation-shaped lines (indented, a base64 body line, PEM armour:
 * shared/line-windows.ts) is masked, and where that run fills them it goes on into the window.
 * A log's own lines (named, stack frames, plain text) are shown as before.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { kubectlLogsTool } from '../../../tools/kubernetes/kubectl-logs.js';
import { testCluster } from '../../support/kube-apiserver/test-connector.js';

const k = testCluster('log-window-long');

async function read(pod: string, o: { tail_lines?: number; since_s?: number }): Promise<string> {
  const tool = kubectlLogsTool(() => k.connector);
  const input = { connection: 'prod', namespace: 'shop', pod, container: 'app', ...o };
  const facts = await tool.parse(input as never, k.parseCtx);
  const r = await tool.execute(input as never, facts, k.ctx);
  assert.equal(r.kind, 'text');
  return r.kind === 'text' ? r.streams.log! : '';
}

/** One line every 10 s, the last 10 s old. */
const timed = (lines: string[]) => lines.map((line, i) => ({ line, ageSeconds: (lines.length - i) * 10 }));

const BODY = (randomBytes(48 * 30).toString('base64').match(/.{64}/g) ?? []).slice(0, 30);
const KEY_LINES = ['starting', 'config:', '  private_key: |', '    -----BEGIN PRIVATE KEY-----', ...BODY.map((l) => `    ${l}`), '    -----END PRIVATE KEY-----', 'ready', 'serving'];

test('a window starting deep inside a block value longer than the lines read before it shows none of it (tail_lines, since_s)', async () => {
  k.server.store.addPod({ namespace: 'shop', name: 'key-0', labels: { app: 'web' }, containers: [{ name: 'app', logs: timed(KEY_LINES) }] });
  const whole = await read('key-0', { tail_lines: 500 });
  for (const l of BODY) assert.ok(!whole.includes(l), `the whole log shows ${l}: ${whole}`);
  for (let tail = 1; tail <= KEY_LINES.length; tail++) {
    const out = await read('key-0', { tail_lines: tail });
    for (const l of BODY) assert.ok(!out.includes(l), `tail_lines ${tail} shows a line of the key: ${out}`);
    if (tail <= 2) assert.ok(out.endsWith('serving\n'), out);
  }
  for (let i = 1; i < KEY_LINES.length; i += 3) {
    const out = await read('key-0', { since_s: i * 10 + 5 });
    for (const l of BODY) assert.ok(!out.includes(l), `since_s ${i * 10 + 5} shows a line of the key: ${out}`);
  }
  assert.match(await read('key-0', { tail_lines: 4 }), /\*\*\*\n.*\*\*\*\nready\nserving\n$/);
});

test("a log's own lines after many lines of stack frames and named lines are shown as they are", async () => {
  const frames = Array.from({ length: 20 }, (_, i) => `    at com.shop.Handler.step${i}(Handler.java:${i + 10})`);
  const named = Array.from({ length: 20 }, (_, i) => `  field${i}: value ${i}`);
  const lines = ['boom', 'java.lang.IllegalStateException: x', ...frames, 'GET /a 200', 'config:', ...named, 'GET /b 200', 'GET /c 200'];
  k.server.store.addPod({ namespace: 'shop', name: 'trace-0', labels: { app: 'web' }, containers: [{ name: 'app', logs: timed(lines) }] });
  assert.equal(await read('trace-0', { tail_lines: 2 }), 'GET /b 200\nGET /c 200\n');
  assert.equal(await read('trace-0', { tail_lines: 5 }), '  field18: value 18\n  field19: value 19\nGET /b 200\nGET /c 200\n'.replace(/^/, '  field17: value 17\n'));
  assert.equal(await read('trace-0', { tail_lines: 25 }), `${lines.slice(-25).join('\n')}\n`);
});
