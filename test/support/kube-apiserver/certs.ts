/**
 * Test PKI for the kube API server: a fresh CA, a server certificate for 127.0.0.1/localhost
 * and client certificates (CN = user, O = group), generated with the openssl CLI.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/** PEM material of the test PKI. */
export interface TestPki {
  dir: string;
  caCert: string;
  caKey: string;
  serverCert: string;
  serverKey: string;
  /** Issue a client certificate signed by the CA. */
  clientCert(user: string, groups?: string[]): { cert: string; key: string };
  /** A certificate from another CA (must be refused). */
  foreignClientCert(user: string): { cert: string; key: string };
}

function openssl(dir: string, args: string[]): void {
  execFileSync('openssl', args, { cwd: dir, stdio: ['ignore', 'ignore', 'pipe'] });
}

function issue(dir: string, name: string, subj: string, caCert: string, caKey: string, ext: string | null): { cert: string; key: string } {
  openssl(dir, ['ecparam', '-name', 'prime256v1', '-genkey', '-noout', '-out', `${name}.key`]);
  openssl(dir, ['req', '-new', '-key', `${name}.key`, '-subj', subj, '-out', `${name}.csr`]);
  const args = ['x509', '-req', '-in', `${name}.csr`, '-CA', caCert, '-CAkey', caKey, '-CAcreateserial', '-days', '2', '-out', `${name}.crt`];
  if (ext) {
    writeFileSync(join(dir, `${name}.ext`), ext);
    args.push('-extfile', `${name}.ext`);
  }
  openssl(dir, args);
  return { cert: readFileSync(join(dir, `${name}.crt`), 'utf8'), key: readFileSync(join(dir, `${name}.key`), 'utf8') };
}

function makeCa(dir: string, name: string): void {
  openssl(dir, ['ecparam', '-name', 'prime256v1', '-genkey', '-noout', '-out', `${name}.key`]);
  openssl(dir, ['req', '-x509', '-new', '-key', `${name}.key`, '-subj', `/CN=${name}`, '-days', '2', '-out', `${name}.crt`]);
}

/** Generate a CA and a server certificate in `dir`. */
export function generatePki(dir: string): TestPki {
  makeCa(dir, 'kube-ca');
  const server = issue(dir, 'apiserver', '/CN=kube-apiserver', 'kube-ca.crt', 'kube-ca.key', 'subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth\n');
  let n = 0;
  let foreign = false;
  return {
    dir,
    caCert: readFileSync(join(dir, 'kube-ca.crt'), 'utf8'),
    caKey: readFileSync(join(dir, 'kube-ca.key'), 'utf8'),
    serverCert: server.cert,
    serverKey: server.key,
    clientCert(user, groups = []) {
      const subj = `/CN=${user}${groups.map((g) => `/O=${g}`).join('')}`;
      return issue(dir, `client-${n++}`, subj, 'kube-ca.crt', 'kube-ca.key', 'extendedKeyUsage=clientAuth\n');
    },
    foreignClientCert(user) {
      if (!foreign) makeCa(dir, 'other-ca');
      foreign = true;
      return issue(dir, `foreign-${n++}`, `/CN=${user}`, 'other-ca.crt', 'other-ca.key', 'extendedKeyUsage=clientAuth\n');
    },
  };
}
