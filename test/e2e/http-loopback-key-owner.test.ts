/**
 * A key source over plain http on this machine is read only from a server of Warden's own user
 * or root. Why: any local user can listen on a free loopback port, and the agent's OS user lives
 * on the same machine in the README's deployment: while the issuer's port is free (the IdP
 * restarting, not up yet), it could serve its own discovery document and key set there and mint
 * any identity. The forger here is a separate process running as `nobody` where the tests run as
 * root (elsewhere it runs as this user, and is then trusted, as a same-user issuer must be).
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { SignJWT } from 'jose';
import { createOidcVerifier } from '../../src/identity/oidc.js';
import { loadServerConfig } from '../../src/config/server-config.js';
import { ConfigError } from '../../src/config/yaml-source.js';
import { verifierFromConfig } from '../../src/server/http-verifier.js';
import { families } from '../../tools/index.js';
import { peerUid, trustedKeyServer } from '../../src/identity/loopback-owner.js';
import { serveOverHttp, type HttpServerHandle } from '../../src/server/http.js';
import { analystsReadPolicy, connectHttpAgent, initializeBody, mcpHeaders, rawRequest } from '../support/http-agent.js';
import { startHttpWarden, type HttpWarden } from '../support/http-warden.js';

const root = process.getuid?.() === 0;
const NOBODY = 65534;

let w: HttpWarden;
before(async () => {
  w = await startHttpWarden({ 'base.yaml': analystsReadPolicy(['public.orders']) });
});
after(() => w?.stop());

/** A discovery document and key set of `jwk`'s key, served by a process of its own (as `uid`, if given). */
async function startForger(jwk: object, uid?: number): Promise<{ base: string; child: ChildProcess }> {
  const script = `
    const http = require('http');
    let base = '';
    const s = http.createServer((req, res) => {
      const json = (o) => { res.writeHead(200, { 'content-type': 'application/json' }); res.end(JSON.stringify(o)); };
      if (req.url === '/.well-known/openid-configuration') json({ issuer: base, jwks_uri: base + '/jwks' });
      else if (req.url === '/jwks') json({ keys: [JSON.parse(process.env.FORGER_JWK)] });
      else { res.writeHead(404); res.end(); }
    });
    s.listen(0, '127.0.0.1', () => { base = 'http://127.0.0.1:' + s.address().port; process.stdout.write(base + '\\n'); });`;
  const child = spawn(process.execPath, ['-e', script], { cwd: '/', env: { FORGER_JWK: JSON.stringify(jwk) }, stdio: ['ignore', 'pipe', 'inherit'], ...(uid === undefined ? {} : { uid, gid: uid }) });
  const base = await new Promise<string>((resolve, reject) => {
    child.stdout!.once('data', (d: Buffer) => resolve(d.toString().trim()));
    child.once('exit', (code) => reject(new Error(`the forger exited (${code})`)));
  });
  return { base, child };
}

test('the owner of a loopback connection is read from its server side, matched by both addresses and ports; only Warden\'s own user, root and listed uids are trusted', () => {
  const head = '  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode';
  const row = (local: string, rem: string, st: string, uid: number) => `   0: ${local} ${rem} ${st} 00000000:00000000 00:00000000 00000000 ${uid} 0 1 1`;
  // Little-endian words: 0100007F is 127.0.0.1, 0200007F 127.0.0.2; port 1F90 is 8080, 9C40 40000.
  const server = { address: '127.0.0.1', port: 8080 };
  const client = { address: '127.0.0.1', port: 40000 };
  const tcp = [
    head,
    row('0100007F:1F90', '00000000:0000', '0A', 1001), // the listener
    row('0200007F:1F90', '0200007F:9C40', '01', 0), // root's connection on another address, same ports
    row('0100007F:1F90', '0100007F:9C40', '01', 1001), // this connection's server side
    row('0100007F:9C40', '0100007F:1F90', '01', 0), // its client side (ours)
  ].join('\n');
  assert.equal(peerUid([tcp], server, client, 'LE'), 1001, 'the server side of this very connection, not root\'s on 127.0.0.2');
  assert.equal(peerUid([tcp], server, { ...client, port: 40001 }, 'LE'), null, 'another connection is not this one');
  // A dual-stack listener: the server side is in tcp6 as ::ffff:127.0.0.1, the client connected to 127.0.0.1.
  const tcp6 = [head, row('0000000000000000FFFF00000100007F:1F90', '0000000000000000FFFF00000100007F:9C41', '01', 106), row('00000000000000000000000001000000:1F90', '00000000000000000000000001000000:9C42', '01', 107)].join('\n');
  assert.equal(peerUid([tcp, tcp6], server, { ...client, port: 40001 }, 'LE'), 106);
  assert.equal(peerUid([tcp, tcp6], { address: '::1', port: 8080 }, { address: '::1', port: 40002 }, 'LE'), 107);
  assert.equal(peerUid([tcp, tcp6], server, { ...client, port: 40002 }, 'LE'), null, '::1 is not 127.0.0.1');
  assert.equal(trustedKeyServer(0, 1000), true);
  assert.equal(trustedKeyServer(1000, 1000), true);
  assert.equal(trustedKeyServer(1001, 1000), false);
  assert.equal(trustedKeyServer(1001, undefined), false);
  assert.equal(trustedKeyServer(1001, 1000, [1001]), true, 'a uid listed in identity.oidc.loopback_key_uids');
});

test('a loopback key source served by another local user mints nobody: 503 issuer_unavailable, nothing opened; the own user\'s issuer is served', async () => {
  const forgerKey = await w.issuer.foreignKey();
  const forger = await startForger(forgerKey.publicJwk, root ? NOBODY : undefined);
  const servers: HttpServerHandle[] = [];
  try {
    const now = Math.floor(Date.now() / 1000);
    const forged = await new SignJWT({ sub: 'mallory', groups: ['analysts'], scope: 'mcp' })
      .setProtectedHeader({ alg: forgerKey.alg, kid: forgerKey.kid })
      .setIssuer(forger.base).setAudience(w.issuer.audience).setIssuedAt(now).setExpirationTime(now + 300)
      .sign(forgerKey.privateKey);
    // Discovery from the forger's port, and a configured jwks_uri there: both are its keys.
    for (const o of [{ issuer: forger.base }, { issuer: forger.base, jwks_uri: `${forger.base}/jwks` }]) {
      const verifier = createOidcVerifier({ ...o, audience: w.issuer.audience, required_scopes: ['mcp'] });
      const h = await serveOverHttp(w.rt, { host: '127.0.0.1', port: 0, version: 'test', verifier, shutdownTimeoutMs: 1000 });
      servers.push(h);
      const r = await rawRequest(h.url, { headers: mcpHeaders(forged), body: initializeBody() });
      if (root) {
        assert.equal(r.status, 503, `${JSON.stringify(o)}: ${r.body}`);
        assert.match(String(r.headers['www-authenticate']), /temporarily_unavailable/);
        assert.equal(r.headers['mcp-session-id'], undefined);
        if (!o.jwks_uri) assert.match(r.body, /served by another user \(uid 65534\)/);
      } else {
        // The forger runs as this very user: a same-user issuer is trusted, as it must be.
        assert.equal(r.status, 200, r.body);
      }
    }
    // An IdP's uid listed in identity.oidc.loopback_key_uids is trusted (a sidecar of its own user).
    const listed = createOidcVerifier({ issuer: forger.base, audience: w.issuer.audience, required_scopes: ['mcp'], loopback_key_uids: [NOBODY] });
    const h = await serveOverHttp(w.rt, { host: '127.0.0.1', port: 0, version: 'test', verifier: listed, shutdownTimeoutMs: 1000 });
    servers.push(h);
    const r = await rawRequest(h.url, { headers: mcpHeaders(forged), body: initializeBody() });
    assert.equal(r.status, 200, r.body);
  } finally {
    await Promise.all(servers.map((s) => s.close()));
    forger.child.kill();
  }
  // The issuer of Warden's own user (in this process) is served as before.
  const a = await connectHttpAgent(w.url, await w.token('ana', ['analysts']));
  try {
    const r = await a.call('query_database', { connection: 'analytics', sql: 'SELECT count(*) AS n FROM orders' });
    assert.equal(r.isError, false, r.text);
  } finally {
    await a.close();
  }
});

test('warden.yaml: loopback_key_uids is a list of uids (default none) and reaches the verifier', () => {
  const yaml = (extra: string) => `identity:\n  oidc:\n    issuer: http://127.0.0.1:8080\n    audience: warden\n${extra}policies: []\n`;
  assert.deepEqual(verifierFromConfig({ config: loadServerConfig('/x/warden.yaml', families, yaml('    loopback_key_uids: [1000, 0]\n')) }).options.loopback_key_uids, [1000, 0]);
  assert.deepEqual(verifierFromConfig({ config: loadServerConfig('/x/warden.yaml', families, yaml('')) }).options.loopback_key_uids, []);
  for (const bad of ['[-1]', '[1.5]', '[keycloak]', '1000']) {
    assert.throws(() => loadServerConfig('/x/warden.yaml', families, yaml(`    loopback_key_uids: ${bad}\n`)), (e: unknown) => e instanceof ConfigError && e.problems.some((p) => /loopback_key_uids/.test(p.path)), bad);
  }
});
