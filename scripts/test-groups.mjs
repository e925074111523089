// Test files that share one Node process in `npm test`. Each test file run alone is its own
// process that loads its ~560 modules before its first test: 0.5 to 1.5 s of CPU, about a fifth
// of the suite's CPU on two cores. So files expected to take less than SOLO_MS run in groups: a
// generated entry file holds one `describe` per member that imports it, so each member's tests,
// and its top-level hooks (before, after, beforeEach...), run inside its own suite, one member
// after another: a member's `before` runs just before its tests and its `after` right after them,
// as when it ran alone. A group is consecutive files in path order (neighbours load the same
// modules) up to about GROUP_MS of their recorded times.
//
// A file runs alone when it is slow anyway (the saving is small and long groups balance badly
// across the runner's slots), or when sharing a process could change what it checks
// (soloReason): signals sent to its own process, or a `warden-test: solo` comment (a test that
// needs modules no other file loaded first). What members still share: loaded modules and
// process-wide state (environment variables, globals), which test code must name per use.
// WARDEN_TEST_GROUPS=0 runs every file alone (scripts/test.mjs).
import { mkdirSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { basename, dirname, join, sep } from 'node:path';
import { pathToFileURL } from 'node:url';

/** A file recorded as taking longer than this runs alone. */
export const SOLO_MS = 20_000;
/** A group closes once its members' recorded times reach this. */
export const GROUP_MS = 45_000;

/** Why the test file `source` (its compiled JavaScript) must have a process of its own, or null. */
export function soloReason(source) {
  if (/process\.kill\(\s*process\.pid\b/.test(source)) return 'it sends signals to its own process';
  if (/warden-test: solo\b/.test(source)) return 'it asks for a process of its own (warden-test: solo)';
  return null;
}

/**
 * The runs for `files` (relative paths, forward or native separators): `{ file }` for a file that
 * runs alone, `{ members }` for a group (two or more). `ms(file)` is a file's expected time;
 * `reason(file)` is soloReason of its source.
 */
export function planRuns(files, ms, reason) {
  const runs = [];
  let group = [];
  let total = 0;
  const close = () => {
    if (group.length === 1) runs.push({ file: group[0] });
    else if (group.length > 1) runs.push({ members: group });
    group = [];
    total = 0;
  };
  for (const file of [...files].sort()) {
    if (ms(file) > SOLO_MS || reason(file) !== null) {
      runs.push({ file });
      continue;
    }
    group.push(file);
    total += ms(file);
    if (total >= GROUP_MS) close();
  }
  close();
  return runs;
}

/**
 * Write one entry file per group into `dir` (absolute) and return the runs with `file` set: a
 * group's entry is named after its first member's folder and its place in the plan, so that the
 * runner's output says roughly where a failing test lives (its own location names the member).
 */
export function writeGroupEntries(root, dir, runs) {
  mkdirSync(dir, { recursive: true });
  return runs.map((run, i) => {
    if (!run.members) return run;
    const first = run.members[0].split(sep).join('/');
    const folder = basename(dirname(first)).replace(/[^A-Za-z0-9_-]/g, '_');
    const file = join(dir, `${String(i).padStart(3, '0')}-${folder}.test.js`);
    const lines = run.members.map((m) => `describe(${JSON.stringify(m.split(sep).join('/'))}, async () => {\n  await import(${JSON.stringify(pathToFileURL(join(root, m)).href)});\n});`);
    writeFileSync(file, `// Written by scripts/test.mjs: these test files share one process, each in a suite of its own (scripts/test-groups.mjs).\nimport { describe } from 'node:test';\n${lines.join('\n')}\n`);
    return { ...run, file };
  });
}

/** soloReason of a file on disk (unreadable: alone). */
export function fileSoloReason(path) {
  try {
    return soloReason(readFileSync(path, 'utf8'));
  } catch {
    return 'its source could not be read';
  }
}

/** Remove the group entry folders (`test-groups-PID`) that runs no longer alive left in `distDir`. */
export function removeStaleEntries(distDir) {
  let names = [];
  try {
    names = readdirSync(distDir);
  } catch {
    return;
  }
  for (const name of names) {
    const pid = /^test-groups-(\d+)$/.exec(name)?.[1];
    if (pid === undefined || alive(Number(pid))) continue;
    rmSync(join(distDir, name), { recursive: true, force: true });
  }
}

function alive(pid) {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return err?.code === 'EPERM';
  }
}
