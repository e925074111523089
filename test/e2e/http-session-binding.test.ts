/**
 * An MCP session over real HTTP is bound to the whole principal its policy decisions read:
 * issuer, subject, groups AND claims. A token of the same subject and groups but other claims
 * (another CI job of the same workload identity) cannot ride a session opened with claims that
 * a `who.claims` rule grants. Plus: a claim named __proto__ lends no claims, a session is not
 * usable with an expired token, and a token is read from the Authorization header only.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { connectHttpAgent, initializeBody, mcpHeaders, rawRequest } from '../support/http-agent.js';
import { startHttpWarden, type HttpWarden, queryCallBody } from '../support/http-warden.js';

const POLICY = `
rules:
  - id: shop-ci-read
    effect: allow
    who: { groups: [ci], claims: { repository: acme/shop } }
    tool: query_database
    on: [analytics]
    sql: { statements: [select], read: [public.orders] }
`;

let w: HttpWarden;

before(async () => {
  w = await startHttpWarden({ 'base.yaml': POLICY });
});
after(() => w?.stop());

const callBody = (id: number) => queryCallBody(id);

describe('HTTP session binding', () => {
  test('a token with the same subject and groups but other claims cannot use the session', async () => {
    // One workload identity (same sub, same groups), two jobs: only the shop job's claims are granted.
    const shop = await connectHttpAgent(w.url, await w.token('ci-runner', ['ci'], { repository: 'acme/shop' }));
    try {
      const sid = shop.transport.sessionId;
      assert.ok(sid);
      const otherToken = await w.token('ci-runner', ['ci'], { repository: 'acme/other' });
      const other = await connectHttpAgent(w.url, otherToken);
      try {
        assert.ok(!(await other.tools()).includes('query_database'), 'on its own session the other job has no grant');
      } finally {
        await other.close();
      }
      const before = w.calls().length;
      const h = { 'mcp-session-id': sid, 'mcp-protocol-version': '2025-11-25' };
      const ride = await rawRequest(w.url, { headers: mcpHeaders(otherToken, h), body: callBody(41) });
      assert.equal(ride.status, 403, `the other job's token rode the shop job's session: ${ride.body.slice(0, 200)}`);
      assert.doesNotMatch(ride.body, /total/);
      assert.equal(w.calls().length, before, 'nothing ran or was recorded under the borrowed session');
      // The owner is unaffected, with a fresh token of the same claims.
      const own = await rawRequest(w.url, { headers: mcpHeaders(await w.token('ci-runner', ['ci'], { repository: 'acme/shop' }), h), body: callBody(42) });
      assert.equal(own.status, 200, own.body);
      assert.match(own.body, /total/);
    } finally {
      await shop.close();
    }
  });

  test('a claim named __proto__ grants nothing', async () => {
    const token = await w.token('ci-proto', ['ci'], JSON.parse('{"__proto__":{"repository":"acme/shop"}}') as Record<string, unknown>);
    const a = await connectHttpAgent(w.url, token);
    try {
      assert.ok(!(await a.tools()).includes('query_database'), 'the inherited repository claim matched shop-ci-read');
      const r = await a.call('query_database', { connection: 'analytics', sql: 'SELECT id, total FROM orders' });
      assert.equal(r.isError, true, r.text);
    } finally {
      await a.close();
    }
  });

  test('a session is not usable with an expired token of its owner', async () => {
    const a = await connectHttpAgent(w.url, await w.token('ci-runner', ['ci'], { repository: 'acme/shop' }));
    try {
      const h = { 'mcp-session-id': a.transport.sessionId!, 'mcp-protocol-version': '2025-11-25' };
      const expired = await w.issuer.mint({ sub: 'ci-runner', groups: ['ci'], repository: 'acme/shop', scope: 'mcp' }, { expiresIn: -120 });
      const r = await rawRequest(w.url, { headers: mcpHeaders(expired, h), body: callBody(43) });
      assert.equal(r.status, 401);
      assert.match(String(r.headers['www-authenticate']), /error="invalid_token", error_description="the token has expired"/);
      assert.doesNotMatch(r.body, /total|ci-runner|acme/, 'the refusal names no claim of the token');
    } finally {
      await a.close();
    }
  });

  test('a token is read from the Authorization header only (not the query string, not a cookie)', async () => {
    const token = await w.token('ci-runner', ['ci'], { repository: 'acme/shop' });
    for (const [name, path, headers] of [
      ['access_token query', `/mcp?access_token=${token}`, mcpHeaders()],
      ['cookie', '/mcp', mcpHeaders(undefined, { cookie: `access_token=${token}; warden_ui=${token}` })],
    ] as const) {
      const r = await rawRequest(w.url, { path, headers, body: initializeBody() });
      assert.equal(r.status, 401, name);
      assert.equal(r.headers['mcp-session-id'], undefined, name);
    }
  });
});
