#!/usr/bin/env node
// `npm test`: prepare system deps, build, start one shared PostgreSQL cluster, run node:test.
//
//   npm test                      every dist/test/**/*.test.js
//   npm test -- postgres ssh      only files whose path contains "postgres" or "ssh"
//   npm test -- --test-name-pattern=drop support
//                                 arguments starting with "-" go to `node --test` as they are
//
// Short test files share a process in groups (scripts/test-groups.mjs).
// Env: WARDEN_TEST_PG_URL (use that server instead of starting one; a superuser URL),
//      WARDEN_SKIP_PREPARE=1 (do not check/install system packages),
//      WARDEN_TEST_GROUPS=0 (every test file in a process of its own),
//      WARDEN_TEST_CONCURRENCY=N (files or groups at a time; default 3).
// The test runner's output passes through untouched, and its failing tests are repeated after
// its totals (scripts/test-failures.mjs); this script's own lines go to stderr.

import { spawn, spawnSync } from 'node:child_process';
import { existsSync, readdirSync, rmSync } from 'node:fs';
import { dirname, join, relative, sep } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { prepareTestEnv } from './prepare-test-env.mjs';
import { expectedTimes, readTimes, saveTimes, slowestFirst } from './test-order.mjs';
import { fileSoloReason, planRuns, removeStaleEntries, writeGroupEntries } from './test-groups.mjs';
import { bundleCli } from './bundle-cli.mjs';
import { failureCollector } from './test-failures.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const log = (message) => process.stderr.write(`[test] ${message}\n`);

const args = process.argv.slice(2);
const runnerFlags = args.filter((a) => a.startsWith('-'));
const filters = args.filter((a) => !a.startsWith('-'));

let cluster = null;
let clusterStarting = null;
let child = null;
let stopping = null;
let groupDir = null;

async function stopCluster() {
  if (clusterStarting) await clusterStarting.catch(() => undefined);
  const c = cluster;
  cluster = null;
  if (c) await c.stop().catch((err) => log(`stopping the PostgreSQL cluster failed: ${err?.message ?? err}`));
}

function finish(code) {
  if (groupDir) rmSync(groupDir, { recursive: true, force: true });
  stopping ??= stopCluster().then(() => process.exit(code));
  return stopping;
}

for (const [signal, code] of [['SIGINT', 130], ['SIGTERM', 143]]) {
  process.on(signal, () => {
    log(`${signal}: stopping`);
    if (child && child.exitCode === null) {
      child.kill(signal); // its exit handler runs finish()
      setTimeout(() => child?.kill('SIGKILL'), 10_000).unref();
    } else {
      void finish(code);
    }
  });
}
// Last resort if something throws past us: never leave a server running.
process.on('exit', () => cluster?.stopSync());

/** dist/test/**\/*.test.js whose TypeScript source still exists (no stale outputs), sorted. */
function findTestFiles() {
  const distTest = join(root, 'dist', 'test');
  const found = [];
  const walk = (dir) => {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      const path = join(dir, entry.name);
      if (entry.isDirectory()) walk(path);
      else if (entry.isFile() && entry.name.endsWith('.test.js')) found.push(path);
    }
  };
  if (existsSync(distTest)) walk(distTest);
  return found
    .filter((file) => existsSync(join(root, relative(join(root, 'dist'), file)).replace(/\.js$/, '.ts')))
    .map((file) => relative(root, file))
    .filter((file) => filters.length === 0 || filters.some((f) => file.split(sep).join('/').includes(f)))
    .sort();
}

async function main() {
  // (a) system programs the tests drive
  const prepared = prepareTestEnv();
  if (prepared !== 0) return finish(prepared);

  // (b) build; type errors fail the run
  const tsc = join(root, 'node_modules', '.bin', 'tsc');
  const build = spawnSync(tsc, ['-p', 'tsconfig.json'], { cwd: root, stdio: ['ignore', 'inherit', 'inherit'] });
  if (build.status !== 0) {
    log(`build failed (tsc exit ${build.status ?? build.signal ?? build.error?.message})`);
    return finish(build.status || 1);
  }
  // the `warden` command's bundle, from what tsc just wrote (the CLI tests run bin/warden.js)
  try {
    await bundleCli(root, log);
  } catch (err) {
    log(`bundling the CLI failed: ${err?.message ?? err}`);
    return finish(1);
  }

  const found = findTestFiles();
  if (found.length === 0) {
    log(filters.length ? `no test file matches ${filters.join(', ')}` : 'no test files under dist/test');
    return finish(1);
  }

  // (c) one PostgreSQL cluster shared by every test file of this run
  const env = { ...process.env };
  if (!env.WARDEN_TEST_PG_URL) {
    const t0 = Date.now();
    const { startPgCluster } = await import(pathToFileURL(join(root, 'dist', 'test', 'support', 'pg-cluster.js')).href);
    if (stopping) return stopping; // a signal arrived during the build
    clusterStarting = startPgCluster();
    try {
      cluster = await clusterStarting;
    } catch (err) {
      log(`could not start PostgreSQL: ${err?.message ?? err}`);
      return finish(1);
    } finally {
      clusterStarting = null;
    }
    if (stopping) return stopping; // a signal arrived while it was starting
    log(`PostgreSQL cluster on 127.0.0.1:${cluster.port} started in ${Date.now() - t0} ms`);
    env.WARDEN_TEST_PG_URL = cluster.url;
    env.WARDEN_TEST_PG_MANAGED = '1';
  }

  // (d) the runs: short files in groups that share a process (scripts/test-groups.mjs), unless
  // WARDEN_TEST_GROUPS=0; then slowest first, by the previous run's times.
  const times = readTimes(root);
  const key = (f) => f.split(sep).join('/');
  const ms = expectedTimes(found, times);
  const grouped = process.env.WARDEN_TEST_GROUPS !== '0';
  removeStaleEntries(join(root, 'dist'));
  groupDir = join(root, 'dist', `test-groups-${process.pid}`);
  const runs = grouped
    ? writeGroupEntries(root, groupDir, planRuns(found, ms, (f) => fileSoloReason(join(root, f)))).map((run) => ({ ...run, file: run.members ? relative(root, run.file) : run.file }))
    : found.map((file) => ({ file }));
  const groups = Object.fromEntries(runs.filter((run) => run.members).map((run) => [key(run.file), run.members.map(key)]));
  const runTimes = { ...times };
  for (const [entry, members] of Object.entries(groups)) runTimes[entry] = members.reduce((sum, m) => sum + ms(m), 0);
  const files = slowestFirst(runs.map((run) => run.file), runTimes);
  log(`${found.length} test files in ${files.length} processes${grouped ? '' : ' (WARDEN_TEST_GROUPS=0)'}`);

  // (e) the runner; its output is what CI reads. Umask 022 so files the tests write without a
  // mode are not group-writable (a user's umask 002, Ubuntu's default, would make every config a
  // test writes one Warden refuses: shared-write.ts).
  process.umask(0o022);
  const timesPath = join(root, 'dist', `test-times-${process.pid}.jsonl`);
  // Processes at a time: WARDEN_TEST_CONCURRENCY, else 3: the tests wait on PostgreSQL, sshd, Chromium and child processes about a third of the time, so on two cores three files at a time finished 2026-11-29's suite in 864 s where two took 1,006 s.
  const concurrency = /^[1-9]\d?$/.test(process.env.WARDEN_TEST_CONCURRENCY ?? '') ? Number(process.env.WARDEN_TEST_CONCURRENCY) : 3;
  const timer = join(root, 'scripts', 'test-file-timer.mjs');
  child = spawn(process.execPath, ['--test', `--test-concurrency=${concurrency}`, '--import', pathToFileURL(timer).href, ...runnerFlags, ...files], {
    cwd: root,
    env: { ...env, WARDEN_TEST_TIMES: timesPath },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  // The output passes through as it comes; the failing tests are repeated after the totals.
  const failures = failureCollector();
  let partial = '';
  child.stdout.setEncoding('utf8');
  child.stdout.on('data', (chunk) => {
    process.stdout.write(chunk);
    const lines = (partial + chunk).split('\n');
    partial = lines.pop() ?? '';
    for (const line of lines) failures.push(line);
  });
  child.on('error', (err) => {
    log(`could not run node --test: ${err.message}`);
    void finish(1);
  });
  child.on('close', (code, signal) => {
    if (partial) failures.push(partial);
    const summary = failures.lines();
    if (summary.length) process.stdout.write(`${summary.join('\n')}\n`);
    try {
      saveTimes(root, timesPath, groups);
    } catch (err) {
      log(`could not save the test files' times: ${err?.message ?? err}`);
    }
    // (f) whatever happened, the cluster and the group entries go
    void finish(code ?? (signal === 'SIGINT' ? 130 : signal === 'SIGTERM' ? 143 : 1));
  });
  return undefined;
}

main().catch((err) => {
  log(`unexpected error: ${err?.stack ?? err}`);
  void finish(1);
});
