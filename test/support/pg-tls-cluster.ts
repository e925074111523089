// A throwaway PostgreSQL cluster with `ssl = on`, for the TLS tests only (opt-in: the default
// cluster of pg-cluster.ts stays as it is). Its certificate is made at test time with the openssl
// CLI (kube-apiserver/certs.ts): a CA, a server certificate for 127.0.0.1/localhost (SAN), and
// an unrelated second CA for the wrong-CA case. Connections with and without TLS are both
// accepted, except for members of CERT_USERS, who must also present a client certificate whose
// CN is their role name (clientcert=verify-full).

import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { generatePki } from './kube-apiserver/certs.js';
import { startPgCluster, stopAtExit, type PgCluster } from './pg-cluster.js';

/** Group role whose members log in over TLS with a client certificate only. */
export const CERT_USERS = 'warden_cert_users';

/** The TLS cluster and the PEM material tests configure `tls:` with. */
export interface PgTlsCluster {
  cluster: PgCluster;
  /** Superuser URL (plain TCP, trust): seed databases with createTestDatabase({ serverUrl }). */
  url: string;
  /** The CA that signed the server certificate. */
  ca: string;
  /** A CA that signed nothing the server has. */
  otherCa: string;
  /** A client certificate and key (signed by `ca`) whose CN is `user`. */
  clientCert(user: string): { cert: string; key: string };
}

const hba = (superuser: string) => `# written by test/support/pg-tls-cluster.ts
local   all ${superuser} trust
host    all ${superuser} 127.0.0.1/32 trust
hostssl all +${CERT_USERS} 127.0.0.1/32 scram-sha-256 clientcert=verify-full
host    all +${CERT_USERS} 127.0.0.1/32 reject
local   all all scram-sha-256
host    all all 127.0.0.1/32 scram-sha-256
`;

let shared: Promise<PgTlsCluster> | null = null;

/** One TLS cluster for this process, started on first use and stopped at exit. */
export function testTlsCluster(): Promise<PgTlsCluster> {
  shared ??= start();
  return shared;
}

async function start(): Promise<PgTlsCluster> {
  const dir = mkdtempSync(join(tmpdir(), 'warden-pg-pki-'));
  try {
    const pki = generatePki(dir);
    pki.foreignClientCert('nobody'); // makes the second CA, other-ca.crt
    const otherCa = readFileSync(join(dir, 'other-ca.crt'), 'utf8');
    const cluster = await startPgCluster({
      files: { 'server.crt': pki.serverCert, 'server.key': pki.serverKey, 'root.crt': pki.caCert, 'pg_hba.conf': hba('postgres') },
      conf: `ssl = on\nssl_cert_file = 'server.crt'\nssl_key_file = 'server.key'\nssl_ca_file = 'root.crt'\n`,
    });
    stopAtExit(cluster);
    process.once('exit', () => rmSync(dir, { recursive: true, force: true }));
    const pg = (await import('pg')).default;
    const c = new pg.Client({ connectionString: cluster.url });
    await c.connect();
    await c.query(`CREATE ROLE ${CERT_USERS} NOLOGIN`).finally(() => c.end());
    return {
      cluster,
      url: cluster.url,
      ca: pki.caCert,
      otherCa,
      clientCert: (user) => pki.clientCert(user),
    };
  } catch (err) {
    rmSync(dir, { recursive: true, force: true });
    throw err;
  }
}
