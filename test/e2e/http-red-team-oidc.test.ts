/**
 * Red-team pass on the OIDC face of `serve --http`, through the real listener and MCP client:
 * tokens that verify but that Warden would read otherwise than their issuer or another reader
 * meant. A sender-constrained token (`cnf`: DPoP or mTLS bound, RFC 9449 / 8705) is worthless
 * to a thief only where the proof is checked; Warden checks none, so it must not take one as a
 * bearer token. A JOSE header that names a member twice (`typ` JWT, then at+jwt) and a time
 * claim that is not a finite number (`exp: 1e400`, read as Infinity) are the payload's repeated
 * names again: readers disagree on what the token says.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { analystsReadPolicy, connectHttpAgent, initializeBody, mcpHeaders, rawRequest } from '../support/http-agent.js';
import { startHttpWarden, type HttpWarden } from '../support/http-warden.js';

let w: HttpWarden;

before(async () => {
  w = await startHttpWarden({ 'base.yaml': analystsReadPolicy(['public.orders']) }, '', { oidc: 'require_access_token_type: true' });
});
after(() => w?.stop());

/** An RFC 9068 access token of an analyst (typ at+jwt, as require_access_token_type wants). */
const accessToken = (extra: Record<string, unknown> = {}) => w.issuer.mint({ sub: 'ana', groups: ['analysts'], scope: 'mcp', ...extra }, { typ: 'at+jwt' });

/** An initialize POST with `token`: refused 401 invalid_token, no session, nothing recorded. */
async function refused(token: string, why: RegExp): Promise<void> {
  const before = w.calls().length;
  const r = await rawRequest(w.url, { headers: mcpHeaders(token), body: initializeBody() });
  assert.equal(r.status, 401, r.body);
  assert.equal(r.headers['mcp-session-id'], undefined, 'no session was opened');
  const challenge = String(r.headers['www-authenticate']);
  assert.match(challenge, /error="invalid_token"/);
  assert.match(challenge, why);
  assert.ok(!r.body.includes(token.split('.')[2]!) && !challenge.includes(token.split('.')[1]!), 'the token is not echoed');
  assert.equal(w.calls().length, before);
}

/** The analyst's plain bearer token is served: tools listed, a granted read runs. */
async function served(token: string): Promise<void> {
  const a = await connectHttpAgent(w.url, token);
  try {
    const r = await a.call('query_database', { connection: 'analytics', sql: 'SELECT count(*) AS n FROM orders' });
    assert.equal(r.isError, false, r.text);
    assert.match(r.text, /20/);
  } finally {
    await a.close();
  }
}

describe('OIDC tokens that verify but must not be read (red team)', () => {
  test('a sender-constrained token (cnf: DPoP jkt, mTLS x5t#S256) sent as a bearer token is refused; the plain bearer token is served', async () => {
    // A copy of a DPoP-bound token (from a log, a proxy, a shared cache) is useless to a thief
    // wherever the proof is checked: Warden verifies no proof, so it must not accept it at all.
    await refused(await accessToken({ cnf: { jkt: '0ZcOCORZNYy-DWpqq30jZyJGHTN0d2HglBV3uiguA4I' } }), /sender-constrained|proof of possession/);
    await refused(await accessToken({ cnf: { 'x5t#S256': 'bwcK0esc3ACC3DB2Y5_lESsXE8o9ltc05O89jdN-dg2' } }), /sender-constrained|proof of possession/);
    await refused(await accessToken({ cnf: 'garbage' }), /sender-constrained|proof of possession/);
    await served(await accessToken());
  });

  test('a JOSE header that names a member twice (typ JWT, then at+jwt; kid twice) is refused; one typ at+jwt is served', async () => {
    const payload = '{"iss":"{{iss}}","aud":"{{aud}}","iat":{{iat}},"exp":{{exp}},"sub":"ana","groups":["analysts"],"scope":"mcp"}';
    // An ID token's header (typ JWT) that a last-wins reader takes for an access token's.
    await refused(w.issuer.signRaw('{"alg":"RS256","kid":"{{kid}}","typ":"JWT","typ":"at+jwt"}', payload), /header names .typ. twice/);
    await refused(w.issuer.signRaw('{"alg":"RS256","kid":"other","kid":"{{kid}}","typ":"at+jwt"}', payload), /header names .kid. twice/);
    await served(w.issuer.signRaw('{"alg":"RS256","kid":"{{kid}}","typ":"at+jwt"}', payload));
  });

  test('exp, nbf or iat that is no finite number (1e400 reads as Infinity: a token that never expires) is refused; a fractional exp is served', async () => {
    const header = '{"alg":"RS256","kid":"{{kid}}","typ":"at+jwt"}';
    const claims = '"iss":"{{iss}}","aud":"{{aud}}","sub":"ana","groups":["analysts"],"scope":"mcp"';
    await refused(w.issuer.signRaw(header, `{${claims},"iat":{{iat}},"exp":1e400}`), /exp claim is not a finite number/);
    await refused(w.issuer.signRaw(header, `{${claims},"iat":{{iat}},"exp":{{exp}},"nbf":-1e400}`), /nbf claim is not a finite number/);
    await refused(w.issuer.signRaw(header, `{${claims},"iat":-1e400,"exp":{{exp}}}`), /iat claim is not a finite number/);
    // RFC 7519 NumericDate may hold a fraction.
    await served(w.issuer.signRaw(header, `{${claims},"iat":{{iat}},"exp":{{exp}}.5}`));
  });
});
