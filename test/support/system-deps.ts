// Locating the real system programs that integration tests drive (initdb, sshd, chromium, ...).
// scripts/prepare-test-env.mjs installs them; this module only finds them.

import { accessSync, constants, existsSync, readdirSync } from 'node:fs';
import { delimiter, dirname, join } from 'node:path';
import { createServer } from 'node:net';

const EXTRA_DIRS = ['/usr/local/sbin', '/usr/local/bin', '/usr/sbin', '/usr/bin', '/sbin', '/bin'];

/** Finds a system binary even when it lives in an sbin dir that is not on a user's PATH (sshd). */
export function findExecutable(name: string): string | null {
  const dirs = [...(process.env['PATH'] ?? '').split(delimiter).filter(Boolean), ...EXTRA_DIRS];
  for (const dir of dirs) {
    const candidate = join(dir, name);
    try {
      accessSync(candidate, constants.X_OK);
      return candidate;
    } catch {
      // not in this dir
    }
  }
  return null;
}

/** Like findExecutable, but throws a message naming the package to install, for clear test failures. */
export function requireExecutable(name: string, debianPackage: string): string {
  const found = findExecutable(name);
  if (found === null) {
    throw new Error(`${name} not found: install the Debian package ${debianPackage} (npm test does so as root)`);
  }
  return found;
}

/**
 * Newest PostgreSQL bin dir with initdb and pg_ctl. Debian keeps them off PATH, under
 * /usr/lib/postgresql/<major>/bin; WARDEN_TEST_PG_BIN overrides for other layouts.
 */
export function findPgBinDir(): string | null {
  const override = process.env['WARDEN_TEST_PG_BIN'];
  if (override) return existsSync(join(override, 'initdb')) ? override : null;
  const root = '/usr/lib/postgresql';
  let versions: string[] = [];
  try {
    versions = readdirSync(root);
  } catch {
    versions = [];
  }
  versions.sort((a, b) => Number.parseFloat(b) - Number.parseFloat(a));
  for (const version of versions) {
    const bin = join(root, version, 'bin');
    if (existsSync(join(bin, 'initdb')) && existsSync(join(bin, 'pg_ctl'))) return bin;
  }
  const initdb = findExecutable('initdb');
  return initdb === null ? null : dirname(initdb);
}

/** Root must hand servers that refuse to run as root (postgres) to an unprivileged user. */
export function isRoot(): boolean {
  return typeof process.getuid === 'function' && process.getuid() === 0;
}

/** A free TCP port on 127.0.0.1 (the OS picks it), for servers the tests start. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address !== null ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}
