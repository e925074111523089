/**
 * End to end over Streamable HTTP: OIDC bearer tokens from a local issuer, real MCP clients,
 * real PostgreSQL. Identity decides what each agent sees and may do; bad tokens, hosts, origins,
 * bodies and hijacked sessions are refused with the right status.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { connectHttpAgent, initializeBody, mcpHeaders, rawRequest } from '../support/http-agent.js';
import { startHttpWarden, type HttpWarden } from '../support/http-warden.js';

const POLICY = `
rules:
  - id: analysts-read-users
    effect: allow
    who: { groups: [analysts] }
    tool: [query_database, describe_database]
    on: [analytics]
    sql: { statements: [select], read: [public.users], functions: [count, lower] }
  - id: sre-read-orders
    effect: allow
    who: { groups: [sre] }
    tool: query_database
    on: [analytics]
    sql: { statements: [select], read: [public.orders], functions: [count, sum] }
  - id: repo-ci-read
    effect: allow
    who: { groups: [ci], claims: { repository: acme/shop } }
    tool: query_database
    on: [analytics]
    sql: { statements: [select], read: [public.orders] }
`;

let w: HttpWarden;

before(async () => {
  w = await startHttpWarden({ 'base.yaml': POLICY }, 'http: { max_body_bytes: 65536, allowed_hosts: [warden.internal], allowed_origins: [https://ui.warden.internal] }');
});
after(() => w?.stop());

describe('HTTP identity and least privilege', () => {
  test('RFC 9728 metadata names the resource and the issuer, at both well-known paths', async () => {
    for (const path of ['/.well-known/oauth-protected-resource', '/.well-known/oauth-protected-resource/mcp']) {
      const r = await rawRequest(w.url, { method: 'GET', path });
      assert.equal(r.status, 200, path);
      const doc = JSON.parse(r.body) as Record<string, unknown>;
      assert.equal(doc.resource, w.issuer.audience);
      assert.deepEqual(doc.authorization_servers, [w.issuer.issuer]);
      assert.deepEqual(doc.scopes_supported, ['mcp']);
    }
  });

  test('two agents in different groups see different tools and get different decisions', async () => {
    const ana = await connectHttpAgent(w.url, await w.token('ana', ['analysts']));
    const sam = await connectHttpAgent(w.url, await w.token('sam', ['sre']));
    const ivy = await connectHttpAgent(w.url, await w.token('ivy', ['auditors']));
    try {
      assert.ok((await ana.tools()).includes('query_database'));
      assert.ok((await ana.tools()).includes('describe_database'));
      assert.ok((await sam.tools()).includes('query_database'));
      const ivyTools = await ivy.tools();
      assert.ok(!ivyTools.includes('query_database'), `auditors have no grant: ${ivyTools.join(',')}`);
      assert.ok(!ivyTools.includes('describe_database'), `auditors have no grant: ${ivyTools.join(',')}`);
      assert.ok(ivyTools.includes('list_connections'), 'built-in discovery stays visible');

      const a1 = await ana.call('query_database', { connection: 'analytics', sql: 'SELECT count(*) FROM users' });
      assert.equal(a1.isError, false, a1.text);
      const a2 = await ana.call('query_database', { connection: 'analytics', sql: 'SELECT sum(total) FROM orders' });
      assert.equal(a2.isError, true);
      assert.match(a2.text, /WARDEN_DENIED/);
      const s1 = await sam.call('query_database', { connection: 'analytics', sql: 'SELECT sum(total) FROM orders' });
      assert.equal(s1.isError, false, s1.text);
      const s2 = await sam.call('query_database', { connection: 'analytics', sql: 'SELECT count(*) FROM users' });
      assert.match(s2.text, /WARDEN_DENIED/);
      const i1 = await ivy.call('query_database', { connection: 'analytics', sql: 'SELECT count(*) FROM users' });
      assert.equal(i1.isError, true);
      assert.match(i1.text, /WARDEN_UNKNOWN_TOOL/);

      const lc = (await ivy.call('list_connections', {})).structured as { data: { connections: unknown[] } };
      assert.deepEqual(lc.data.connections, [], 'list_connections shows an ungranted principal nothing');
      const la = (await ana.call('list_connections', {})).structured as { data: { connections: { name: string }[] } };
      assert.deepEqual(la.data.connections.map((c) => c.name), ['analytics']);
    } finally {
      await Promise.all([ana.close(), sam.close(), ivy.close()]);
    }
    const calls = w.calls();
    assert.ok(calls.some((c) => c.decision === 'deny' && String(c.rule_ids) === '[]'), 'denials are recorded');
    const all = JSON.stringify(calls);
    assert.ok(!all.includes('eyJ'), 'no bearer token in the transcript');
  });

  test('claims from the token drive rules (a CI job for one repository)', async () => {
    const good = await connectHttpAgent(w.url, await w.token('repo:acme/shop', ['ci'], { repository: 'acme/shop' }));
    const other = await connectHttpAgent(w.url, await w.token('repo:acme/other', ['ci'], { repository: 'acme/other' }));
    try {
      assert.equal((await good.call('query_database', { connection: 'analytics', sql: 'SELECT id FROM orders' })).isError, false);
      assert.ok(!(await other.tools()).includes('query_database'));
    } finally {
      await Promise.all([good.close(), other.close()]);
    }
  });

  test('missing and bad tokens get 401 with a resource_metadata challenge; missing scope gets 403', async () => {
    const none = await rawRequest(w.url, { headers: mcpHeaders(), body: initializeBody() });
    assert.equal(none.status, 401);
    assert.match(String(none.headers['www-authenticate']), /^Bearer resource_metadata="https:\/\/warden\.test\/\.well-known\/oauth-protected-resource\/mcp"/);
    const i = w.issuer;
    const bad: [string, string][] = [
      ['expired', await i.mint({ sub: 'ana', groups: ['analysts'], scope: 'mcp' }, { expiresIn: -300 })],
      ['not yet valid', await i.mint({ sub: 'ana', groups: ['analysts'], scope: 'mcp' }, { notBefore: 300 })],
      ['wrong audience', await i.mint({ sub: 'ana', scope: 'mcp', aud: 'https://other.test/mcp' })],
      ['wrong issuer', await i.mint({ sub: 'ana', scope: 'mcp', iss: 'https://evil.test' })],
      ['alg none', i.unsigned({ sub: 'ana', scope: 'mcp', groups: ['analysts'] })],
      ['HS256 with the public key', await i.hs256WithPublicKey({ sub: 'ana', scope: 'mcp', groups: ['analysts'] })],
      ['tampered', i.tamper(await w.token('ivy', ['auditors']), { groups: ['analysts'] })],
      ['not a JWT', 'abc'],
    ];
    for (const [name, token] of bad) {
      const r = await rawRequest(w.url, { headers: mcpHeaders(token), body: initializeBody() });
      assert.equal(r.status, 401, name);
      assert.match(String(r.headers['www-authenticate']), /error="invalid_token".*resource_metadata="/, name);
      assert.ok(!r.body.includes(token.slice(-16)), `${name}: the answer does not echo the token`);
    }
    const basic = await rawRequest(w.url, { headers: { ...mcpHeaders(), authorization: 'Basic YTpi' }, body: initializeBody() });
    assert.equal(basic.status, 401);
    const noScope = await rawRequest(w.url, { headers: mcpHeaders(await w.issuer.mint({ sub: 'ana', groups: ['analysts'], scope: 'openid' })), body: initializeBody() });
    assert.equal(noScope.status, 403);
    assert.match(String(noScope.headers['www-authenticate']), /error="insufficient_scope", scope="mcp"/);
    // A real client with a bad token fails to connect.
    await assert.rejects(connectHttpAgent(w.url, i.unsigned({ sub: 'ana', scope: 'mcp', groups: ['analysts'] })));
  });

  test('a rotated issuer key is picked up', async () => {
    await w.issuer.rotate({ keepOld: true });
    // The new key id is fetched at most once per jwks_cooldown (1s here): a token signed with it
    // may be refused until the cooldown since the last fetch has passed, then it is accepted.
    const token = await w.token('ana', ['analysts']);
    const deadline = Date.now() + 5_000;
    let fresh: Awaited<ReturnType<typeof connectHttpAgent>> | null = null;
    while (!fresh) {
      try {
        fresh = await connectHttpAgent(w.url, token);
      } catch (e) {
        if (Date.now() > deadline) throw e;
        await new Promise((r) => setTimeout(r, 250));
      }
    }
    try {
      const r = await fresh.call('query_database', { connection: 'analytics', sql: 'SELECT count(*) FROM users' });
      assert.equal(r.isError, false, r.text);
    } finally {
      await fresh.close();
    }
  });

  test('a bad Host or Origin is refused (DNS rebinding protection)', async () => {
    const token = await w.token('ana', ['analysts']);
    const evilHost = await rawRequest(w.url, { headers: mcpHeaders(token, { host: 'evil.example:80' }), body: initializeBody() });
    assert.equal(evilHost.status, 403);
    const evilOrigin = await rawRequest(w.url, { headers: mcpHeaders(token, { origin: 'http://evil.example' }), body: initializeBody() });
    assert.equal(evilOrigin.status, 403);
    const nullOrigin = await rawRequest(w.url, { headers: mcpHeaders(token, { origin: 'null' }), body: initializeBody() });
    assert.equal(nullOrigin.status, 403);
    const evilMeta = await rawRequest(w.url, { method: 'GET', path: '/.well-known/oauth-protected-resource', headers: { host: 'evil.example' } });
    assert.equal(evilMeta.status, 403, 'every route is guarded');
    const port = new URL(w.url).port;
    const allowed: [string, string | undefined][] = [
      ['localhost', `http://localhost:${port}`],
      ['127.0.0.1', undefined],
      ['warden.internal', 'https://ui.warden.internal'],
      ['warden.test', 'https://warden.test'],
    ];
    for (const [host, origin] of allowed) {
      const ok = await rawRequest(w.url, { headers: mcpHeaders(token, { host, ...(origin ? { origin } : {}) }), body: initializeBody() });
      assert.equal(ok.status, 200, `${host} ${origin ?? ''} is allowed: ${ok.body}`);
    }
    const otherOrigin = await rawRequest(w.url, { headers: mcpHeaders(token, { host: 'warden.internal', origin: 'https://warden.internal' }), body: initializeBody() });
    assert.equal(otherOrigin.status, 403, 'an allowed Host is not an allowed Origin by itself');
    // Origins are compared whole: another port or scheme of an allowed host is another origin.
    for (const origin of ['http://localhost:5173', `https://localhost:${port}`, 'http://ui.warden.internal', 'https://ui.warden.internal:8443', 'http://warden.test']) {
      const r = await rawRequest(w.url, { headers: mcpHeaders(token, { host: 'localhost', origin }), body: initializeBody() });
      assert.equal(r.status, 403, origin);
    }
  });

  test('a session id presented with another principal’s token is refused', async () => {
    const ana = await connectHttpAgent(w.url, await w.token('ana', ['analysts']));
    try {
      const sid = ana.transport.sessionId;
      assert.ok(sid, 'a 2025-11-25 client has a session');
      const list = JSON.stringify({ jsonrpc: '2.0', id: 7, method: 'tools/list', params: {} });
      const h = { 'mcp-session-id': sid, 'mcp-protocol-version': '2025-11-25' };
      const hijack = await rawRequest(w.url, { headers: mcpHeaders(await w.token('mallory', ['analysts']), h), body: list });
      assert.equal(hijack.status, 403);
      const moreGroups = await rawRequest(w.url, { headers: mcpHeaders(await w.token('ana', ['analysts', 'sre']), h), body: list });
      assert.equal(moreGroups.status, 403, 'a token with other groups cannot ride the session');
      const own = await rawRequest(w.url, { headers: mcpHeaders(await w.token('ana', ['analysts']), h), body: list });
      assert.equal(own.status, 200, own.body);
      assert.match(own.body, /query_database/);
      const unknown = await rawRequest(w.url, { headers: mcpHeaders(await w.token('ana', ['analysts']), { ...h, 'mcp-session-id': 'no-such-session' }), body: list });
      assert.equal(unknown.status, 404);
      assert.match(unknown.body, /WARDEN_INVALID_INPUT: Session not found/);
      assert.match(hijack.body, /WARDEN_DENIED: Forbidden: this session belongs to another principal/);
      // The session still works for its owner after the attempts.
      assert.equal((await ana.call('query_database', { connection: 'analytics', sql: 'SELECT count(*) FROM users' })).isError, false);
    } finally {
      await ana.close();
    }
  });

  test('request bodies over the limit get 413 and wrong content types 415', async () => {
    const token = await w.token('ana', ['analysts']);
    const big = JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'initialize', params: { pad: 'x'.repeat(70_000) } });
    const r = await rawRequest(w.url, { headers: mcpHeaders(token), body: big });
    assert.equal(r.status, 413);
    const text = await rawRequest(w.url, { headers: { ...mcpHeaders(token), 'content-type': 'text/plain' }, body: initializeBody() });
    assert.equal(text.status, 415);
    const broken = await rawRequest(w.url, { headers: mcpHeaders(token), body: '{"jsonrpc":' });
    assert.equal(broken.status, 400);
    // Every refusal names its code, as over stdio: a client or a log search keys on WARDEN_*.
    assert.match(r.body, /WARDEN_INVALID_INPUT: Payload Too Large/);
    assert.match(text.body, /WARDEN_INVALID_INPUT: Unsupported Media Type/);
    assert.match(broken.body, /"code":-32700/);
    assert.match(broken.body, /Parse error: WARDEN_INVALID_INPUT: the body is not JSON/);
    const deep = await rawRequest(w.url, { headers: mcpHeaders(token), body: '['.repeat(200) + ']'.repeat(200) });
    assert.equal(deep.status, 400);
    assert.match(deep.body, /WARDEN_INVALID_INPUT: Bad Request: JSON nested deeper/);
    const notRpc = await rawRequest(w.url, { headers: mcpHeaders(token), body: '{"foo":1}' });
    assert.equal(notRpc.status, 400, notRpc.body);
    assert.match(notRpc.body, /WARDEN_INVALID_INPUT/);
  });

  test('a body that is not UTF-8, or declares another charset or a content coding, is refused with WARDEN_INVALID_INPUT and runs nothing', async () => {
    // Red-team: both were read as UTF-8 (bad bytes as U+FFFD) and the call ran, on SQL other than
    // the agent sent, or than a proxy honouring `charset=utf-16` would have read.
    const token = await w.token('ana', ['analysts']);
    const opened = await rawRequest(w.url, { headers: mcpHeaders(token), body: initializeBody() });
    assert.equal(opened.status, 200, opened.body);
    const session = { 'mcp-session-id': String(opened.headers['mcp-session-id']), 'mcp-protocol-version': '2025-11-25' };
    const call = (id: number, sql: string) => JSON.stringify({ jsonrpc: '2.0', id, method: 'tools/call', params: { name: 'query_database', arguments: { connection: 'analytics', sql } } });
    const before = w.calls().length;
    const [head, tail] = call(21, "SELECT count(*) FROM users WHERE name = '@'").split('@') as [string, string];
    const badBytes = await rawRequest(w.url, { headers: mcpHeaders(token, session), body: Buffer.concat([Buffer.from(head), Buffer.from([0xc0, 0xa7]), Buffer.from(tail)]) });
    assert.equal(badBytes.status, 400, badBytes.body);
    assert.match(badBytes.body, /WARDEN_INVALID_INPUT.*not valid UTF-8/);
    for (const charset of ['utf-16', '"UTF-16LE"', 'iso-8859-1']) {
      const r = await rawRequest(w.url, { headers: mcpHeaders(token, { ...session, 'content-type': `application/json; charset=${charset}` }), body: call(22, 'SELECT count(*) FROM users') });
      assert.equal(r.status, 415, `${charset}: ${r.body}`);
      assert.match(r.body, /WARDEN_INVALID_INPUT.*charset/);
    }
    // Two charsets, or two Content-Types (Node keeps the first, a proxy may keep the last).
    const twice = await rawRequest(w.url, { headers: mcpHeaders(token, { ...session, 'content-type': 'application/json; charset=utf-16; charset=utf-8' }), body: call(25, 'SELECT count(*) FROM users') });
    assert.equal(twice.status, 415, twice.body);
    const twoTypes = await rawRequest(w.url, { headers: { ...mcpHeaders(token, session), 'content-type': ['application/json', 'application/json; charset=utf-16'] as unknown as string }, body: call(26, 'SELECT count(*) FROM users') });
    assert.equal(twoTypes.status, 415, twoTypes.body);
    assert.match(twoTypes.body, /WARDEN_INVALID_INPUT.*more than one Content-Type/);
    // A content coding Warden does not decode: the plain JSON it holds is not read past the label.
    for (const coding of ['gzip', 'deflate, gzip', 'br']) {
      const r = await rawRequest(w.url, { headers: mcpHeaders(token, { ...session, 'content-encoding': coding }), body: call(24, 'SELECT count(*) FROM users') });
      assert.equal(r.status, 415, `${coding}: ${r.body}`);
      assert.match(r.body, /WARDEN_INVALID_INPUT.*Content-Encoding/);
    }
    assert.equal(w.calls().length, before, 'nothing ran or was recorded');
    // UTF-8, declared or not, and a real non-ASCII character, are served.
    for (const type of ['application/json; charset=utf-8', 'application/json;charset="UTF-8"', 'application/json']) {
      const r = await rawRequest(w.url, { headers: mcpHeaders(token, { ...session, 'content-type': type }), body: Buffer.from(call(23, "SELECT count(*) FROM users WHERE name = 'Zoë'")) });
      assert.equal(r.status, 200, `${type}: ${r.body}`);
      assert.match(r.body, /count/);
    }
  });

  test('a 2026-07-28 client (version negotiation) is served per request under its identity', async () => {
    const ana = await connectHttpAgent(w.url, await w.token('ana', ['analysts']), { modern: true });
    try {
      assert.equal(ana.client.getProtocolEra(), 'modern');
      assert.ok((await ana.tools()).includes('query_database'));
      const r = await ana.call('query_database', { connection: 'analytics', sql: 'SELECT count(*) FROM users' });
      assert.equal(r.isError, false, r.text);
      const d = await ana.call('query_database', { connection: 'analytics', sql: 'SELECT sum(total) FROM orders' });
      assert.match(d.text, /WARDEN_DENIED/);
    } finally {
      await ana.close();
    }
  });
});
