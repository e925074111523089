/**
 * `reveal_secret_keys` names keys, not Secrets: a grant of `token` (meant for an Opaque
 * Secret's app token) must not hand out a service-account token, a registry login, a TLS
 * private key or an SSH key. Secrets of the credential-carrying types keep those keys masked
 * whatever the grant says; their public parts (certificates, CA, namespace, user name) and
 * Opaque Secrets follow the grant as before. Through `warden serve` and the test API server.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { connectWarden, type WardenDir, type WardenSession } from '../support/warden-process.js';
import type { KubeApiServer } from '../support/kube-apiserver/index.js';
import { dumpTranscript } from '../support/kube-apiserver/transcript-dump.js';
import { setupWardenKube } from '../support/kube-apiserver/warden-setup.js';

const REVEAL = ['token', 'ca.crt', 'namespace', '.dockerconfigjson', '.dockercfg', 'username', 'password', 'ssh-privatekey', 'tls.crt', 'tls.key', 'token-id', 'token-secret', 'release', 'extra'];

const POLICY = `
rules:
  - id: secrets-read
    effect: allow
    who: { groups: [sre] }
    tool: kubectl_get
    kubernetes: { namespaces: [shop, kube-system], kinds: [secrets], reveal_secret_keys: [${REVEAL.map((k) => JSON.stringify(k)).join(', ')}] }
`;

/** Credential values planted in typed Secrets: none may reach the agent or the transcript. */
const CRED = {
  saToken: 'eyJhbGciOiJSUzI1NiJ9.sa-token-body-Q7w2.sig-Zx81',
  saExtra: 'sa-extra-key-Pw93mQ',
  dockerJson: '{"auths":{"registry.example":{"auth":"ZG9ja2VyOnJlZy1wYXNzLUs4ZDI="}}}',
  dockerCfg: '{"registry.example":{"auth":"ZG9ja2VyY2ZnOnBhc3MtSjJxOQ=="}}',
  basicPassword: 'basic-pass-Hv62Lr',
  sshKey: 'ssh-private-key-body-Nq04Tz',
  tlsKey: 'tls-private-key-body-Rk57Wm',
  bootstrapSecret: 'bootsecret-Ab12cd34',
  helmRelease: 'H4sIhelm-release-blob-Yt38',
};

/** Values that are not credentials and that the grant may reveal. */
const PUBLIC = {
  saCa: 'sa-ca-certificate-Gm21',
  saNamespace: 'shop',
  basicUser: 'basic-user-Lq09',
  tlsCrt: 'tls-public-cert-Vd44',
  tlsCa: 'tls-ca-cert-Fe83',
  opaqueToken: 'opaque-app-token-Tz71',
};

const b64 = (s: string) => Buffer.from(s).toString('base64');
const data = (o: Record<string, string>) => Object.fromEntries(Object.entries(o).map(([k, v]) => [k, b64(v)]));

let server: KubeApiServer;
let dir: WardenDir;
let w: WardenSession;

before(async () => {
  ({ server, dir } = await setupWardenKube(POLICY));
  const put = (name: string, type: string | undefined, d: Record<string, string>, namespace = 'shop') =>
    server.store.put('secrets', { metadata: { name, namespace, annotations: { 'kubernetes.io/service-account.name': 'builder' } }, ...(type ? { type } : {}), data: data(d) });
  put('sa-token', 'kubernetes.io/service-account-token', { token: CRED.saToken, 'ca.crt': PUBLIC.saCa, namespace: PUBLIC.saNamespace, extra: CRED.saExtra });
  put('regcred', 'kubernetes.io/dockerconfigjson', { '.dockerconfigjson': CRED.dockerJson });
  put('regcfg', 'kubernetes.io/dockercfg', { '.dockercfg': CRED.dockerCfg });
  put('basic', 'kubernetes.io/basic-auth', { username: PUBLIC.basicUser, password: CRED.basicPassword });
  put('deploy-key', 'kubernetes.io/ssh-auth', { 'ssh-privatekey': CRED.sshKey });
  put('web-tls', 'kubernetes.io/tls', { 'tls.crt': PUBLIC.tlsCrt, 'tls.key': CRED.tlsKey, 'ca.crt': PUBLIC.tlsCa });
  put('bootstrap-token-ab12cd', 'bootstrap.kubernetes.io/token', { 'token-id': 'ab12cd', 'token-secret': CRED.bootstrapSecret }, 'kube-system');
  put('sh.helm.release.v1.web.v1', 'helm.sh/release.v1', { release: CRED.helmRelease });
  put('untyped', undefined, { token: CRED.saExtra.replace('sa', 'untyped') });
  put('app-token', 'Opaque', { token: PUBLIC.opaqueToken });
  w = await connectWarden(dir.configPath);
});

after(async () => {
  await w?.close();
  await server?.stop();
  dir?.cleanup();
});

type Secret = { metadata: { name: string }; data: Record<string, string> };
const get = (name: string, reveal: string[], namespace = 'shop') => w.call('kubectl_get', { connection: 'prod', kind: 'secrets', namespace, name, reveal_keys: reveal });
const dataOf = (r: { structured: Record<string, unknown> | undefined }) => (r.structured as { data: Secret }).data.data;
const CREDS = [...Object.values(CRED), CRED.saExtra.replace('sa', 'untyped')];
/** A piece of each value that JSON never escapes (the registry configs hold quotes), and its base64. */
const marks = (s: string) => [/"auth":"([^"]+)"/.exec(s)?.[1] ?? s, b64(s)];

function assertNoCredential(r: { text: string; structured: Record<string, unknown> | undefined }): void {
  const all = r.text + JSON.stringify(r.structured ?? {});
  for (const s of CREDS) for (const m of marks(s)) assert.ok(!all.includes(m), `leaks ${m.slice(0, 12)}`);
}

describe('credential-carrying Secret types stay masked whatever reveal_secret_keys grants', () => {
  test('an Opaque Secret follows the grant (the control case)', async () => {
    const r = await get('app-token', ['token']);
    assert.equal(r.isError, false, r.text);
    assert.deepEqual(dataOf(r), { token: PUBLIC.opaqueToken });
  });

  test('service-account token: token and any added key masked; ca.crt and namespace follow the grant', async () => {
    const r = await get('sa-token', ['token', 'ca.crt', 'namespace', 'extra']);
    assert.equal(r.isError, false, r.text);
    assert.deepEqual(dataOf(r), { token: '***', 'ca.crt': PUBLIC.saCa, namespace: PUBLIC.saNamespace, extra: '***' });
    assert.match(r.text, /note: secret shop\/sa-token: token, extra stay masked; .*kubernetes\.io\/service-account-token/, 'the agent is told why the keys stayed masked');
    assert.deepEqual((r.structured as { notes?: string[] }).notes?.length, 1);
    assertNoCredential(r);
  });

  test('registry logins, SSH keys, bootstrap tokens and Helm releases: every key masked', async () => {
    const cases: [string, string[], string?][] = [
      ['regcred', ['.dockerconfigjson']],
      ['regcfg', ['.dockercfg']],
      ['deploy-key', ['ssh-privatekey']],
      ['sh.helm.release.v1.web.v1', ['release']],
      ['bootstrap-token-ab12cd', ['token-id', 'token-secret'], 'kube-system'],
    ];
    for (const [name, keys, ns] of cases) {
      const r = await get(name, keys, ns);
      assert.equal(r.isError, false, r.text);
      for (const k of keys) assert.equal(dataOf(r)[k], '***', `${name} ${k}`);
      assertNoCredential(r);
    }
  });

  test('basic-auth: the user name follows the grant, the password stays masked', async () => {
    const r = await get('basic', ['username', 'password']);
    assert.equal(r.isError, false, r.text);
    assert.deepEqual(dataOf(r), { username: PUBLIC.basicUser, password: '***' });
    assertNoCredential(r);
  });

  test('tls: certificates follow the grant, the private key stays masked', async () => {
    const r = await get('web-tls', ['tls.crt', 'tls.key', 'ca.crt']);
    assert.equal(r.isError, false, r.text);
    assert.deepEqual(dataOf(r), { 'tls.crt': PUBLIC.tlsCrt, 'tls.key': '***', 'ca.crt': PUBLIC.tlsCa });
    assertNoCredential(r);
  });

  test('a Secret without a type is not trusted to be Opaque', async () => {
    const r = await get('untyped', ['token']);
    assert.equal(r.isError, false, r.text);
    assert.deepEqual(dataOf(r), { token: '***' });
    assertNoCredential(r);
  });

  test('a list with reveal_keys: only the Opaque Secret shows its token', async () => {
    const r = await w.call('kubectl_get', { connection: 'prod', kind: 'secrets', namespace: 'shop', reveal_keys: ['token', 'password', 'tls.key', '.dockerconfigjson', 'ssh-privatekey', 'release'] });
    assert.equal(r.isError, false, r.text);
    const items = (r.structured as { data: { items: Secret[] } }).data.items;
    const byName = new Map(items.map((i) => [i.metadata.name, i.data]));
    assert.equal(byName.get('app-token')?.token, PUBLIC.opaqueToken);
    assert.equal(byName.get('sa-token')?.token, '***');
    assertNoCredential(r);
  });

  test('the transcript holds none of the credentials', () => {
    const all = dumpTranscript(dir.dbPath);
    assert.match(all, /sa-token/);
    for (const s of CREDS) for (const m of marks(s)) assert.ok(!all.includes(m), `transcript leaks ${m.slice(0, 12)}`);
  });
});
