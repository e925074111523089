/**
 * A webhook receiver that answers with a redirect does not get the approval (the call text, the
 * requester, the reviewers) re-posted to wherever it points: webhook URLs carry tokens and the
 * body carries the bound call, so delivery goes to the configured URL or nowhere.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import { createWebhookNotifier } from '../../src/approvals/index.js';

function listen(handler: Parameters<typeof createServer>[1]): Promise<{ server: Server; url: string }> {
  const server = createServer(handler);
  return new Promise((ok) => server.listen(0, '127.0.0.1', () => ok({ server, url: `http://127.0.0.1:${(server.address() as { port: number }).port}` })));
}

test('a redirecting webhook receiver does not forward the notice elsewhere', async () => {
  let forwarded = 0;
  const other = await listen((req, res) => {
    forwarded++;
    req.resume();
    res.end('ok');
  });
  const hook = await listen((req, res) => {
    req.resume();
    res.writeHead(307, { location: `${other.url}/collect` }).end();
  });
  const logs: unknown[] = [];
  const n = createWebhookNotifier({ attempts: 2, baseDelayMs: 1, log: (_l, msg, data) => logs.push({ msg, data }) });
  try {
    n.notify({ webhook: `${hook.url}/hooks/SECRET-TOKEN`, format: 'json' }, {
      event: 'requested',
      seq: 1,
      approval: { id: 'a', state: 'pending', requester: 'sam', tool: 'query_database', connection: 'db', summary: 's', rule_ids: ['r'], approvals_required: 1, approvals: 0, created_at: '', expires_at: '', call_id: null, session_id: null, decisions: [] },
      call: { tool: 'query_database', connection: 'db', args: { sql: 'UPDATE orders SET x = 1' } },
    });
    await n.drain(5000);
    assert.equal(forwarded, 0, 'the body was re-posted to the redirect target');
    assert.ok(logs.length > 0, 'the failed delivery is logged');
    assert.ok(!JSON.stringify(logs).includes('SECRET-TOKEN'), 'the webhook URL is never logged');
  } finally {
    await new Promise((ok) => other.server.close(ok));
    await new Promise((ok) => hook.server.close(ok));
  }
});
