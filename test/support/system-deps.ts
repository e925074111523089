// Locating the real system programs that integration tests drive (initdb, sshd, chromium, ...).
// scripts/prepare-test-env.mjs installs them; this module only finds them.

import { join } from 'node:path';
import { createServer } from 'node:net';
import { pathToFileURL } from 'node:url';
import { REPO_ROOT } from './repo.js';

/** What scripts/prepare-test-env.mjs exports for locating programs. */
interface ProgramLookup {
  findExecutable(name: string): string | null;
  findPgBinDir(): string | null;
}

// One lookup for the installer and the tests: the script runs before the build, so it holds the
// code, and this module loads it from the repository (importing it has no side effects).
const lookup = (await import(pathToFileURL(join(REPO_ROOT, 'scripts', 'prepare-test-env.mjs')).href)) as ProgramLookup;

/** Finds a system binary even when it lives in an sbin dir that is not on a user's PATH (sshd). */
export function findExecutable(name: string): string | null {
  return lookup.findExecutable(name);
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
  return lookup.findPgBinDir();
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
