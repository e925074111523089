#!/usr/bin/env node
// Makes sure the system programs the test suite drives for real are installed.
//
// The suite starts real peers (PostgreSQL, OpenSSH sshd, Chromium, kubectl), so a fresh
// Debian machine must get their packages before `npm test` can pass. When a binary is
// missing and we run as root on Debian/Ubuntu, the missing packages are installed in ONE
// apt-get call; otherwise we exit non-zero and print the exact command to run.
//
// To add a requirement, add a row to REQUIREMENTS below. Nothing already present is installed.

import { accessSync, constants, existsSync, readdirSync } from 'node:fs';
import { delimiter, dirname, join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { pathToFileURL } from 'node:url';

/** Directories searched besides $PATH: sshd lives in /usr/sbin, often not on a user's PATH. */
const EXTRA_DIRS = ['/usr/local/sbin', '/usr/local/bin', '/usr/sbin', '/usr/bin', '/sbin', '/bin'];

/**
 * What the tests need from the system. One row per Debian package.
 * - `bins`: executables that must all be found (on $PATH or EXTRA_DIRS), or
 * - `find`: a custom finder returning the path of what was found, or null.
 * - `skip`: when it returns a reason string, the row is not required for this run.
 */
export const REQUIREMENTS = [
  {
    pkg: 'postgresql',
    what: 'initdb + pg_ctl (any version under /usr/lib/postgresql/*/bin)',
    find: findPgBinDir,
    skip: () => (process.env.WARDEN_TEST_PG_URL ? 'WARDEN_TEST_PG_URL is set' : null),
  },
  { pkg: 'openssh-server', what: 'sshd', bins: ['sshd'] },
  { pkg: 'openssh-client', what: 'ssh + ssh-keygen', bins: ['ssh', 'ssh-keygen'] },
  { pkg: 'chromium', what: 'chromium (driven by playwright-core)', bins: ['chromium'] },
  // Debian's kubectl package is `kubernetes-client` (1.20 on bookworm). Any kubectl on PATH will do.
  { pkg: 'kubernetes-client', what: 'kubectl', bins: ['kubectl'] },
];

/** Path of an executable named `name`, searching $PATH then the sbin/bin dirs; null if absent. */
export function findExecutable(name) {
  const dirs = [...(process.env.PATH ?? '').split(delimiter).filter(Boolean), ...EXTRA_DIRS];
  for (const dir of dirs) {
    const candidate = join(dir, name);
    try {
      accessSync(candidate, constants.X_OK);
      return candidate;
    } catch {
      // not here
    }
  }
  return null;
}

/**
 * Newest /usr/lib/postgresql/<version>/bin holding initdb and pg_ctl (Debian keeps them off PATH),
 * else initdb's dir on PATH; WARDEN_TEST_PG_BIN overrides. Null if none.
 */
export function findPgBinDir() {
  const override = process.env.WARDEN_TEST_PG_BIN;
  if (override) return existsSync(join(override, 'initdb')) ? override : null;
  const root = '/usr/lib/postgresql';
  let versions = [];
  try {
    versions = readdirSync(root);
  } catch {
    versions = []; // no Debian layout: initdb on PATH, below
  }
  versions.sort((a, b) => Number.parseFloat(b) - Number.parseFloat(a));
  for (const version of versions) {
    const bin = join(root, version, 'bin');
    if (existsSync(join(bin, 'initdb')) && existsSync(join(bin, 'pg_ctl'))) return bin;
  }
  const initdb = findExecutable('initdb');
  return initdb === null ? null : dirname(initdb);
}

/** Rows of REQUIREMENTS that are needed for this run and not satisfied. */
export function missingRequirements(requirements = REQUIREMENTS) {
  const missing = [];
  for (const req of requirements) {
    if (req.skip?.()) continue;
    const ok = req.find ? req.find() !== null : (req.bins ?? []).every((b) => findExecutable(b) !== null);
    if (!ok) missing.push(req);
  }
  return missing;
}

function isDebianLike() {
  return existsSync('/etc/debian_version') && findExecutable('apt-get') !== null;
}

function isRoot() {
  return typeof process.getuid === 'function' && process.getuid() === 0;
}

function installCommand(pkgs, withSudo) {
  const sudo = withSudo ? 'sudo ' : '';
  return (
    `${sudo}env DEBIAN_FRONTEND=noninteractive apt-get update && ` +
    `${sudo}env DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends ${pkgs.join(' ')}`
  );
}

function log(message) {
  process.stderr.write(`[prepare-test-env] ${message}\n`);
}

/**
 * Checks REQUIREMENTS and installs what is missing when it may. Returns the exit code to use
 * (0 when everything needed is present afterwards).
 */
export function prepareTestEnv() {
  if (process.env.WARDEN_SKIP_PREPARE === '1') {
    log('WARDEN_SKIP_PREPARE=1: not checking system packages');
    return 0;
  }
  const missing = missingRequirements();
  if (missing.length === 0) return 0;

  const pkgs = [...new Set(missing.map((r) => r.pkg))];
  for (const req of missing) log(`missing ${req.what} (Debian package ${req.pkg})`);

  if (!isDebianLike()) {
    log('not a Debian/Ubuntu system: install the equivalents of these Debian packages yourself:');
    log(`  ${pkgs.join(' ')}`);
    return 1;
  }
  if (!isRoot()) {
    log('not root, so not installing. Run:');
    process.stderr.write(`${installCommand(pkgs, true)}\n`);
    return 1;
  }

  log(`installing: ${pkgs.join(' ')}`);
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  // apt output goes to stderr so that stdout stays the test runner's alone.
  const stdio = ['ignore', process.stderr, process.stderr];
  const update = spawnSync('apt-get', ['update'], { env, stdio });
  if (update.status !== 0) {
    log(`apt-get update failed (exit ${update.status ?? update.signal})`);
    return 1;
  }
  const install = spawnSync('apt-get', ['install', '-y', '--no-install-recommends', ...pkgs], { env, stdio });
  if (install.status !== 0) {
    log(`apt-get install failed (exit ${install.status ?? install.signal}). Command was:`);
    process.stderr.write(`${installCommand(pkgs, false)}\n`);
    return 1;
  }

  const still = missingRequirements();
  if (still.length > 0) {
    for (const req of still) log(`still missing after install: ${req.what} (package ${req.pkg})`);
    return 1;
  }
  log('all system requirements present');
  return 0;
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  process.exitCode = prepareTestEnv();
}
