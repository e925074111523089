/**
 * The bearer JWT verifier against a real local issuer (discovery + JWKS over loopback HTTP).
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createOidcVerifier, type TokenVerifier } from '../../src/identity/oidc.js';
import { groupsFromClaims } from '../../src/identity/claims.js';
import { WardenError } from '../../src/errors.js';
import { startOidcIssuer, type OidcIssuer } from '../support/oidc-issuer.js';

let iss: OidcIssuer;
let v: TokenVerifier;

async function reason(p: Promise<unknown>): Promise<string> {
  try {
    await p;
  } catch (e) {
    assert.ok(e instanceof WardenError, `a WardenError, got ${String(e)}`);
    assert.equal(e.code, 'WARDEN_UNAUTHENTICATED');
    return String(e.details.reason);
  }
  assert.fail('the token was accepted');
}

before(async () => {
  iss = await startOidcIssuer();
  v = createOidcVerifier({ issuer: iss.issuer, audience: iss.audience, groups_claim: 'realm_access.roles', required_scopes: ['mcp'], jwks_cooldown_ms: 0 });
});
after(() => iss?.stop());

describe('OIDC bearer verification', () => {
  test('a valid token gives a principal with subject, nested groups, claims and scopes', async () => {
    const t = await iss.mint({ sub: 'ci-bot', realm_access: { roles: ['deployers', 'analysts'] }, repository: 'acme/shop', scope: 'mcp openid' });
    const r = await v.verify(t);
    assert.equal(r.principal.subject, 'ci-bot');
    assert.deepEqual(r.principal.groups, ['deployers', 'analysts']);
    assert.equal(r.principal.authMethod, 'oidc');
    assert.equal(r.principal.claims.repository, 'acme/shop');
    assert.equal(r.principal.claims.exp, undefined, 'time claims are not rule claims');
    assert.deepEqual(r.scopes.sort(), ['mcp', 'openid']);
    assert.deepEqual(v.missingScopes(r), []);
    assert.equal(iss.hits().discovery, 1, 'the key set was discovered from the issuer');
  });

  test('missing scopes are reported', async () => {
    const r = await v.verify(await iss.mint({ sub: 'a', scope: 'openid' }));
    assert.deepEqual(v.missingScopes(r), ['mcp']);
  });

  test('bad tokens are refused with a reason, never with the token', async () => {
    const cases: [string, Promise<string>, string][] = [
      ['expired', iss.mint({ sub: 'a' }, { expiresIn: -120 }), 'expired'],
      ['not yet valid', iss.mint({ sub: 'a' }, { notBefore: 120 }), 'not_yet_valid'],
      ['wrong audience', iss.mint({ sub: 'a', aud: 'https://other.example/mcp' }), 'wrong_audience'],
      ['wrong issuer', iss.mint({ sub: 'a', iss: 'https://evil.example' }), 'wrong_issuer'],
      ['alg none', Promise.resolve(iss.unsigned({ sub: 'a' })), 'algorithm'],
      ['HS256 with the public key', iss.hs256WithPublicKey({ sub: 'a' }), 'algorithm'],
      ['tampered', iss.mint({ sub: 'a', groups: ['analysts'] }).then((t) => iss.tamper(t, { sub: 'admin' })), 'signature'],
      ['no exp', iss.mint({ sub: 'a' }, { omit: ['exp'] }), 'claims'],
      ['no sub', iss.mint({}), 'claims'],
      ['garbage', Promise.resolve('not a jwt'), 'malformed'],
      ['foreign key, known kid', iss.foreignKey().then((k) => iss.mint({ sub: 'a' }, { key: k, kid: iss.current().kid })), 'signature'],
    ];
    for (const [name, tokenP, want] of cases) {
      const token = await tokenP;
      const got = await reason(v.verify(token));
      assert.equal(got, want, name);
      await v.verify(token).catch((e: Error) => assert.ok(!e.message.includes(token.slice(0, 20)), `${name}: the message holds no token`));
    }
  });

  test('a token within the leeway of exp is still accepted', async () => {
    const r = await v.verify(await iss.mint({ sub: 'a' }, { expiresIn: -5 }));
    assert.equal(r.principal.subject, 'a');
  });

  test('a rotated key is picked up (unknown kid refetches the JWKS)', async () => {
    await v.verify(await iss.mint({ sub: 'a' }));
    const before = iss.hits().jwks;
    const old = iss.current();
    await iss.rotate();
    const r = await v.verify(await iss.mint({ sub: 'after-rotation' }));
    assert.equal(r.principal.subject, 'after-rotation');
    assert.ok(iss.hits().jwks > before, 'the JWKS was refetched');
    assert.equal(await reason(v.verify(await iss.mint({ sub: 'retired-key-check' }, { key: old }))), 'unknown_key', 'a retired key no longer verifies');
  });

  test('refetches on unknown kids are rate limited by the cooldown', async () => {
    const slow = createOidcVerifier({ issuer: iss.issuer, audience: iss.audience, jwks_cooldown_ms: 60_000 });
    await slow.verify(await iss.mint({ sub: 'a' }));
    const before = iss.hits().jwks;
    const forger = await iss.foreignKey();
    for (let i = 0; i < 5; i++) assert.equal(await reason(slow.verify(await iss.mint({ sub: 'a' }, { key: forger }))), 'unknown_key');
    assert.ok(iss.hits().jwks - before <= 1, `at most one refetch in the cooldown, got ${iss.hits().jwks - before}`);
  });

  test('a configured jwks_uri is used without discovery', async () => {
    const d = iss.hits().discovery;
    const direct = createOidcVerifier({ issuer: iss.issuer, audience: iss.audience, jwks_uri: iss.jwksUri });
    assert.equal((await direct.verify(await iss.mint({ sub: 'a' }))).principal.subject, 'a');
    assert.equal(iss.hits().discovery, d);
  });

  test('an unreachable issuer fails closed', async () => {
    const dead = createOidcVerifier({ issuer: 'http://127.0.0.1:1', audience: iss.audience });
    assert.equal(await reason(dead.verify(await iss.mint({ sub: 'a' }))), 'issuer_unavailable');
  });

  test('none and HS* algorithms are refused in the configuration', () => {
    for (const algorithms of [['none'], ['HS256'], ['RS256', 'hs512']]) {
      assert.throws(() => createOidcVerifier({ issuer: iss.issuer, audience: iss.audience, algorithms }), /WARDEN_CONFIG|cannot be used/);
    }
  });

  test('an algorithm outside the allowed list is refused', async () => {
    const es = createOidcVerifier({ issuer: iss.issuer, audience: iss.audience, algorithms: ['ES256'] });
    assert.equal(await reason(es.verify(await iss.mint({ sub: 'a' }))), 'algorithm');
  });

  test('groups: flat, nested, namespaced, string and absent', () => {
    // Integers are numeric group ids (a deny on "3" must match them); other shapes are refused
    // (groups-claim-shapes.test.ts), since reading them as no group let a deny on a group miss.
    assert.deepEqual(groupsFromClaims({ groups: ['a', 'b', 'a', 3, ''] }, 'groups'), ['a', 'b', '3']);
    assert.deepEqual(groupsFromClaims({ groups: 1001 }, 'groups'), ['1001']);
    assert.deepEqual(groupsFromClaims({ groups: ['1001', 1001] }, 'groups'), ['1001']);
    assert.throws(() => groupsFromClaims({ groups: true }, 'groups'), /groups claim/);
    assert.deepEqual(groupsFromClaims({ realm_access: { roles: ['x'] } }, 'realm_access.roles'), ['x']);
    assert.deepEqual(groupsFromClaims({ 'https://acme/groups': ['n'] }, 'https://acme/groups'), ['n']);
    assert.deepEqual(groupsFromClaims({ role: 'sre' }, 'role'), ['sre']);
    assert.throws(() => groupsFromClaims({ realm_access: 'x' }, 'realm_access.roles'), /groups claim/);
    assert.deepEqual(groupsFromClaims({}, 'groups'), []);
  });
});
