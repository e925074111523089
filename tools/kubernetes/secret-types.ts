/**
 * Secret types whose data is a credential Warden never hands out, whatever `reveal_secret_keys`
 * grants. A grant names keys, not Secrets: `token` meant for an Opaque Secret's app token would
 * otherwise also reveal every service-account token in the namespace (a live cluster
 * credential), `password` every basic-auth password, and so on.
 *
 * The list, as a demanding security team would keep it: every built-in Secret type that is not
 * `Opaque`, plus Helm's release records.
 *
 * | type | never revealed | may be revealed |
 * |---|---|---|
 * | kubernetes.io/service-account-token | token (a bearer token for the API server) | ca.crt, namespace |
 * | kubernetes.io/dockerconfigjson | .dockerconfigjson (registry logins) | nothing |
 * | kubernetes.io/dockercfg | .dockercfg (registry logins, legacy) | nothing |
 * | kubernetes.io/basic-auth | password | username |
 * | kubernetes.io/ssh-auth | ssh-privatekey | nothing |
 * | kubernetes.io/tls | tls.key (the private key) | tls.crt, ca.crt |
 * | bootstrap.kubernetes.io/token | token-secret (joins a node to the cluster) | nothing |
 * | helm.sh/release.v1 | release (the rendered chart, Secrets included, gzipped) | nothing |
 *
 * Any other key of these types stays masked too (fail closed: a key added beside the credential
 * may be a copy of it); only the public parts listed may follow the grant. A Secret whose type
 * is missing or not a string is treated like these (a real API server always sets one).
 * Any other type (Opaque, custom types) follows reveal_secret_keys as written.
 */

interface CredentialType {
  /** The keys that hold the credential (named in lint warnings and in the agent's note). */
  credential: readonly string[];
  /** The keys that are public by the type's definition and may follow the grant. */
  shown: readonly string[];
}

const CREDENTIAL_TYPES: ReadonlyMap<string, CredentialType> = new Map([
  ['kubernetes.io/service-account-token', { credential: ['token'], shown: ['ca.crt', 'namespace'] }],
  ['kubernetes.io/dockerconfigjson', { credential: ['.dockerconfigjson'], shown: [] }],
  ['kubernetes.io/dockercfg', { credential: ['.dockercfg'], shown: [] }],
  ['kubernetes.io/basic-auth', { credential: ['password'], shown: ['username'] }],
  ['kubernetes.io/ssh-auth', { credential: ['ssh-privatekey'], shown: [] }],
  ['kubernetes.io/tls', { credential: ['tls.key'], shown: ['tls.crt', 'ca.crt'] }],
  ['bootstrap.kubernetes.io/token', { credential: ['token-secret'], shown: [] }],
  ['helm.sh/release.v1', { credential: ['release'], shown: [] }],
]);

/** May a granted key of a Secret of this type be shown? Why: the type, not the key name, says what the value is. */
export function revealableKey(type: unknown, key: string): boolean {
  if (typeof type !== 'string') return false;
  const t = CREDENTIAL_TYPES.get(type);
  return t === undefined || t.shown.includes(key);
}

/** Credential types that hold a credential under this key; why: policy lint warns an admin who grants it. */
export function credentialTypesUsing(key: string): string[] {
  return [...CREDENTIAL_TYPES].filter(([, t]) => t.credential.includes(key)).map(([name]) => name);
}
