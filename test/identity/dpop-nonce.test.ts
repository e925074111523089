/**
 * DPoP server nonces without a server: the windows a nonce is taken in, keys, the claim shapes
 * that are a bad proof, and the identity.oidc.dpop nonce settings the config refuses (WARDEN_CONFIG).
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createNonceIssuer, nonceClaimProblem, nonceFor } from '../../src/identity/dpop-nonce.js';
import { loadServerConfig } from '../../src/config/server-config.js';
import { ConfigError } from '../../src/config/yaml-source.js';
import { families } from '../../tools/index.js';

const KEY = 'k'.repeat(32);
const W = 60_000;

describe('DPoP nonce issuer', () => {
  test('a nonce is taken in its window and the next, not two windows later nor before it', () => {
    const n = createNonceIssuer(W, KEY);
    const t = 1_000 * W + 17;
    const nonce = n.current(t);
    assert.match(nonce, /^w\.1000\.[A-Za-z0-9_-]{22}$/);
    assert.equal(n.current(t + W - 18), nonce, 'the same window, the same nonce');
    assert.ok(n.accepts(nonce, t));
    assert.ok(n.accepts(nonce, t + W), 'the next window');
    assert.ok(!n.accepts(nonce, t + 2 * W), 'two windows later');
    assert.ok(!n.accepts(nonce, t - W), 'a window before (the clock went back)');
    assert.ok(n.accepts(nonce, t), 'and taken again once the clock is back');
  });

  test('a nonce of another key, an altered one, or one naming another window is refused; the same key in another issuer takes it', () => {
    const t = 5 * W;
    const nonce = createNonceIssuer(W, KEY).current(t);
    assert.ok(createNonceIssuer(W, KEY).accepts(nonce, t), 'a replica with the same key');
    assert.ok(!createNonceIssuer(W, 'o'.repeat(32)).accepts(nonce, t), 'another key');
    assert.ok(!createNonceIssuer(W).accepts(nonce, t), 'a random key');
    assert.ok(!createNonceIssuer(W, KEY).accepts(nonce.replace(/^w\.5\./, 'w.4.'), t), 'the mac of window 5 under the index 4');
    assert.ok(!createNonceIssuer(W, KEY).accepts(`${nonce}x`, t));
    assert.equal(nonceFor(KEY, 5), nonce);
  });

  test('a nonce claim that is no string, empty, oversize or holds a quote is a malformed proof; any other string is only checked', () => {
    for (const bad of [1, null, {}, ['w'], '', 'x'.repeat(257), 'a"b', 'a\\b', 'a b', 'é']) assert.match(String(nonceClaimProblem(bad)), /nonce/, JSON.stringify(bad));
    for (const ok of ['w.1.abc', 'x'.repeat(256), 'anything!']) assert.equal(nonceClaimProblem(ok), null, ok);
  });
});

/** The problems of a config whose identity.oidc.dpop is `dpop` (flow YAML). */
function dpopProblems(dpop: string): string[] {
  const text = `identity:\n  oidc:\n    issuer: https://idp.example\n    audience: https://warden.example/mcp\n    dpop: ${dpop}\npolicies: []\n`;
  try {
    loadServerConfig('/x/warden.yaml', families, text);
    return [];
  } catch (e) {
    assert.ok(e instanceof ConfigError);
    assert.equal(e.code, 'WARDEN_CONFIG');
    return e.problems.map((p) => `${p.path}:${p.message}`);
  }
}

describe('identity.oidc.dpop nonce settings', () => {
  test('defaults: nonces off, a 60s window, no key', () => {
    const c = loadServerConfig('/x/warden.yaml', families, 'identity:\n  oidc:\n    issuer: https://idp.example\n    audience: https://warden.example/mcp\n    dpop: {}\npolicies: []\n');
    const d = c.identity.oidc!.dpop!;
    assert.deepEqual([d.nonce, d.nonce_lifetime, d.nonce_key], [false, 60_000, undefined]);
    assert.deepEqual(dpopProblems('{ nonce: true, nonce_lifetime: 5s, nonce_key: env:K }'), []);
    assert.deepEqual(dpopProblems('{ nonce: true, nonce_lifetime: 10m, nonce_key: "file:/run/secrets/nonce" }'), []);
  });

  test('bad values are refused with WARDEN_CONFIG at their key, never echoing an inline secret', () => {
    const has = (p: string[], re: RegExp) => assert.ok(p.some((s) => re.test(s)), p.join('\n'));
    has(dpopProblems('{ nonce: true, nonce_lifetime: 4s }'), /nonce_lifetime:dpop.nonce_lifetime must be between 5s and 10m/);
    has(dpopProblems('{ nonce: true, nonce_lifetime: 11m }'), /nonce_lifetime:dpop.nonce_lifetime must be between 5s and 10m/);
    has(dpopProblems('{ nonce: true, nonce_lifetime: 60 }'), /nonce_lifetime:a duration needs a unit/);
    has(dpopProblems('{ nonce: "yes" }'), /dpop.nonce:/);
    const inline = dpopProblems('{ nonce: true, nonce_key: hunter2-hunter2-hunter2-hunter2-x }');
    has(inline, /nonce_key:must be a secret reference/);
    assert.ok(!inline.join('\n').includes('hunter2'), 'the inline secret is not echoed');
    has(dpopProblems('{ nonce_key: env:K }'), /nonce_key:dpop.nonce_key is set but dpop.nonce is not true/);
    has(dpopProblems('{ nonce: true, nonce_window: 5s }'), /nonce_window:unknown key/);
  });
});
