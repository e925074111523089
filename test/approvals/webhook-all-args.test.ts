/**
 * Red team (reviewer deception): the Slack and JSON webhook previews showed a query_database
 * call's `sql` alone. Its `params` (bound to $1, $2, and as much what runs as the text) were left
 * out, so `UPDATE users SET role = $1 WHERE id = $2` read the same whether it made user 7 a
 * `viewer` or an `admin`: two requests with the same text and other values looked identical (the
 * id aside), and a reviewer could approve the wrong one. A kubectl_exec argv was joined with
 * spaces, so its word boundaries were lost. Every argument that runs is now in the preview, each
 * on its own line, and argv words are quoted as the summary quotes them.
 * Delivered through the real notifier to a real local receiver.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import { createWebhookNotifier, type ApprovalNotice } from '../../src/approvals/notifier.js';
import { analyzeSqlCached } from '../../tools/postgres/analysis/index.js';
import { queryDatabaseTool } from '../../tools/postgres/query-database.js';

let server: Server;
let url = '';
const received: Record<string, unknown>[] = [];

before(async () => {
  server = createServer((req, res) => {
    let body = '';
    req.on('data', (d: Buffer) => (body += d.toString()));
    req.on('end', () => {
      received.push(JSON.parse(body) as Record<string, unknown>);
      res.end('ok');
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  url = `http://127.0.0.1:${(server.address() as { port: number }).port}/hook`;
});
after(() => new Promise((r) => server.close(r)));

function notice(id: string, tool: string, args: Record<string, unknown>, summary: string): ApprovalNotice {
  return {
    event: 'requested',
    seq: 1,
    approval: { id, state: 'pending', requester: 'sam', tool, connection: 'db', summary, rule_ids: ['fix'], approvals_required: 1, approvals: 0, created_at: '2026-01-01T00:00:00Z', expires_at: '2026-01-01T00:30:00Z', call_id: null, session_id: null, decisions: [] },
    call: { tool, connection: 'db', args },
  };
}

async function deliver(format: 'slack' | 'json', n: ApprovalNotice): Promise<Record<string, unknown>> {
  const before = received.length;
  const notifier = createWebhookNotifier({ attempts: 1 });
  notifier.notify({ webhook: url, format }, n);
  await notifier.drain(5000);
  assert.equal(received.length, before + 1, 'delivered');
  return received[received.length - 1]!;
}

/** What a person reads of a body: the Slack call section, or the JSON preview. */
function callShown(format: 'slack' | 'json', b: Record<string, unknown>): string {
  if (format === 'json') return String(b.preview);
  const blocks = b.blocks as { text?: { text: string } }[];
  return blocks[1]?.text?.text ?? '';
}

// The canonical arguments query_database binds an approval to (the tool's own canonicalArgs).
function sqlArgs(sql: string, params: (string | number)[]): Record<string, unknown> {
  const tool = queryDatabaseTool(() => { throw new Error('no connector is needed'); });
  const input = { connection: 'db', sql, params };
  return tool.canonicalArgs!(input, analyzeSqlCached(sql)) as Record<string, unknown>;
}

const SQL = 'UPDATE users SET role = $1 WHERE id = $2';

test('the webhook preview shows a statement\'s params: two calls differing only in them read differently', async () => {
  for (const format of ['slack', 'json'] as const) {
    const viewer = callShown(format, await deliver(format, notice('apr-1', 'query_database', sqlArgs(SQL, ['viewer', 7]), 'update; writes public.users')));
    const admin = callShown(format, await deliver(format, notice('apr-2', 'query_database', sqlArgs(SQL, ['admin', 7]), 'update; writes public.users')));
    assert.notEqual(viewer, admin, `${format}: two calls that run differently must not preview the same`);
    assert.match(admin, /params/, format);
    assert.match(admin, /"admin"/, format);
    assert.match(viewer, /"viewer"/, format);
    assert.match(admin, /UPDATE users SET role = \$1/, format);
  }
});

test('the webhook preview keeps a kubectl_exec argv\'s word boundaries, and its pod and container', async () => {
  const args = (command: string[]) => ({ connection: 'db', namespace: 'shop', pod: 'web-1', pod_uid: 'u1', container: 'app', command, timeout_s: null });
  for (const format of ['slack', 'json'] as const) {
    // `sh -c 'ls /srv'` lists /srv; `sh -c ls /srv` runs `ls` with $0 set to /srv: joined with spaces they read the same.
    const one = callShown(format, await deliver(format, notice('apr-3', 'kubectl_exec', args(['sh', '-c', 'ls /srv']), 'exec shop/web-1[app]')));
    const two = callShown(format, await deliver(format, notice('apr-4', 'kubectl_exec', args(['sh', '-c', 'ls', '/srv']), 'exec shop/web-1[app]')));
    assert.notEqual(one, two, `${format}: argv word boundaries are shown`);
    assert.match(one, /web-1/, format);
    assert.match(one, /app/, format);
  }
});
