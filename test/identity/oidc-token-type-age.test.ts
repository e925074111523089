/**
 * Two opt-in checks of the verifier: the token type (RFC 9068 `typ: at+jwt`, so an ID token,
 * `typ: JWT`, is not taken for an access token) and a maximum token age (`iat`), which refuses an
 * old token even when its `exp` is far away. Both refuse with WARDEN_UNAUTHENTICATED and a
 * reason, the path every other token failure takes, and over HTTP with a 401 challenge.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { createOidcVerifier } from '../../src/identity/oidc.js';
import { verifierFromConfig } from '../../src/server/http-verifier.js';
import { loadServerConfig } from '../../src/config/server-config.js';
import { ConfigError } from '../../src/config/yaml-source.js';
import { WardenError } from '../../src/errors.js';
import { families } from '../../tools/index.js';
import { startOidcIssuer, unauthenticated, type OidcIssuer } from '../support/oidc-issuer.js';
import { mcpHeaders, initializeBody, rawRequest } from '../support/http-agent.js';
import { startHttpWarden } from '../support/http-warden.js';

let iss: OidcIssuer;

before(async () => {
  iss = await startOidcIssuer();
});
after(() => iss?.stop());


test('require_access_token_type refuses a typ other than at+jwt (an ID token\'s JWT); at+jwt, application/at+jwt and no typ pass; off by default', async () => {
  const off = createOidcVerifier({ issuer: iss.issuer, audience: iss.audience });
  assert.equal((await off.verify(await iss.mint({ sub: 'idt' }, { typ: 'JWT' }))).principal.subject, 'idt', 'off by default: existing IdPs keep working');
  const v = createOidcVerifier({ issuer: iss.issuer, audience: iss.audience, require_access_token_type: true });
  for (const typ of ['JWT', 'jwt', 'id_token+jwt', 'application/jwt', 'at+jwt ']) {
    const e = await unauthenticated(v.verify(await iss.mint({ sub: 'idt' }, { typ })));
    assert.equal(e.details.reason, 'wrong_type', typ);
    assert.match(e.message, /at\+jwt/);
  }
  for (const typ of ['at+jwt', 'AT+JWT', 'application/at+jwt', null]) {
    assert.equal((await v.verify(await iss.mint({ sub: `ok-${String(typ)}` }, { typ }))).principal.subject, `ok-${String(typ)}`, String(typ));
  }
});

test('max_token_age refuses a token whose iat is older than the age though its exp is later, and one without iat; expiresAt stops at the age', async () => {
  const v = createOidcVerifier({ issuer: iss.issuer, audience: iss.audience, clock_tolerance_ms: 0, max_token_age_ms: 600_000 });
  const now = Math.floor(Date.now() / 1000);
  const old = await iss.mint({ sub: 'old', iat: now - 3600 }, { expiresIn: 7200 });
  const e = await unauthenticated(v.verify(old));
  assert.equal(e.details.reason, 'too_old');
  assert.match(e.message, /iat|issued/);
  assert.ok(!e.message.includes(old), 'the token is not in the refusal');
  assert.equal((await unauthenticated(v.verify(await iss.mint({ sub: 'no-iat' }, { omit: ['iat'] })))).details.reason, 'claims', 'no iat: refused when a maximum age is set');
  const young = await v.verify(await iss.mint({ sub: 'young', iat: now - 60 }, { expiresIn: 7200 }));
  assert.equal(young.principal.subject, 'young');
  assert.equal(young.expiresAt, now - 60 + 600, 'a session or stream ends when the token reaches its maximum age, not at its later exp');
  const short = await v.verify(await iss.mint({ sub: 'short', iat: now, exp: now + 60 }));
  assert.equal(short.expiresAt, now + 60, 'an exp before the age still ends it');
  // Without the key, an old token and one without iat pass as before.
  const plain = createOidcVerifier({ issuer: iss.issuer, audience: iss.audience });
  assert.equal((await plain.verify(old)).principal.subject, 'old');
  // The age is a bounded, positive duration.
  for (const bad of [0, -1]) assert.throws(() => createOidcVerifier({ issuer: iss.issuer, audience: iss.audience, max_token_age_ms: bad }), (x: unknown) => x instanceof WardenError && x.code === 'WARDEN_CONFIG' && /max_token_age/.test(x.message));
});

test('warden.yaml: max_token_age is a duration, require_access_token_type a boolean (default off); both reach the verifier', () => {
  const yaml = (extra: string) => `identity:\n  oidc:\n    issuer: https://idp.example\n    audience: warden\n${extra}policies: []\n`;
  const problems = (text: string) => {
    try {
      loadServerConfig('/x/warden.yaml', families, text);
      return [];
    } catch (e) {
      assert.ok(e instanceof ConfigError);
      return e.problems.map((p) => `${p.line}:${p.path}:${p.message}`);
    }
  };
  const c = loadServerConfig('/x/warden.yaml', families, yaml('    require_access_token_type: true\n    max_token_age: 1h\n'));
  const o = verifierFromConfig({ config: c }).options;
  assert.equal(o.require_access_token_type, true);
  assert.equal(o.max_token_age_ms, 3_600_000);
  const d = verifierFromConfig({ config: loadServerConfig('/x/warden.yaml', families, yaml('')) }).options;
  assert.equal(d.require_access_token_type ?? false, false);
  assert.equal(d.max_token_age_ms, undefined);
  assert.ok(problems(yaml('    max_token_age: 3600\n')).some((s) => /max_token_age:a duration needs a unit: 3600ms/.test(s)), 'a bare number names the spellings');
  assert.ok(problems(yaml('    max_token_age: 0s\n')).some((s) => /max_token_age/.test(s)), '0 would refuse every token');
  assert.ok(problems(yaml('    require_access_token_type: yes\n')).some((s) => /require_access_token_type/.test(s)));
});

test('over HTTP a refused type or age is the usual 401 invalid_token challenge', async (t) => {
  const w = await startHttpWarden({ 'p.yaml': 'rules: []\n' }, '', { oidc: 'require_access_token_type: true\nmax_token_age: 10m' });
  t.after(() => w.stop());
  const now = Math.floor(Date.now() / 1000);
  for (const [what, token, reason] of [
    ['an ID token', await w.issuer.mint({ sub: 'ana', groups: [], scope: 'mcp' }, { typ: 'JWT' }), /at\+jwt/],
    ['an old token', await w.issuer.mint({ sub: 'ana', groups: [], scope: 'mcp', iat: now - 3600 }, { typ: 'at+jwt', expiresIn: 7200 }), /iat|issued/],
    // The refusal quotes the type; a header value may hold only visible ASCII (a 500 before).
    ['a type outside Latin-1', await w.issuer.mint({ sub: 'ana', groups: [], scope: 'mcp' }, { typ: 'at+jwt\u2603\u0000' }), /at\+jwt/],
  ] as const) {
    const r = await rawRequest(w.url, { headers: mcpHeaders(token), body: initializeBody() });
    assert.equal(r.status, 401, what);
    assert.match(String(r.headers['www-authenticate']), /^Bearer error="invalid_token"/, what);
    assert.match(String(r.headers['www-authenticate']), /^[\x20-\x7e]*$/, `${what}: a challenge of visible ASCII only`);
    assert.match(JSON.parse(r.body).error_description, reason, what);
  }
  const ok = await rawRequest(w.url, { headers: mcpHeaders(await w.issuer.mint({ sub: 'ana', groups: [], scope: 'mcp' }, { typ: 'at+jwt' })), body: initializeBody() });
  assert.equal(ok.status, 200, ok.body);
});
