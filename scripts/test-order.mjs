// Order of the test files for `npm test`: slowest first. With two files at a time, a 60 s file
// started last keeps the run going alone at its end; started first, it runs beside the short
// ones. Times come from the previous run on this machine (node_modules/.cache), else from the
// committed snapshot scripts/test-times.json; a file neither knows counts as the median.
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join, relative, sep } from 'node:path';

/** Where a run leaves its per-file times for the next one (outside the work tree's tracked files). */
export const cachedTimesPath = (root) => join(root, 'node_modules', '.cache', 'warden-test-times.json');

/** The committed snapshot, used on a machine that has not run the suite yet (CI's clean checkout). */
export const snapshotTimesPath = (root) => join(root, 'scripts', 'test-times.json');

/** Per-file milliseconds, keyed by the path relative to the repository with forward slashes. */
export function readTimes(root) {
  for (const path of [cachedTimesPath(root), snapshotTimesPath(root)]) {
    try {
      const times = JSON.parse(readFileSync(path, 'utf8'));
      if (times && typeof times === 'object' && !Array.isArray(times)) return times;
    } catch {
      // absent or unreadable: try the next source
    }
  }
  return {};
}

/**
 * Each of `files`' (relative paths) expected time by `times`: its recorded time, else the median
 * of the recorded times of `files` (0 when none has one).
 */
export function expectedTimes(files, times) {
  const key = (f) => f.split(sep).join('/');
  const median = medianTime(Object.fromEntries(files.map((f) => [f, times[key(f)]])));
  return (f) => (typeof times[key(f)] === 'number' ? times[key(f)] : median);
}

/** `files` (relative paths), slowest first by `times`; ties and unknown files keep name order. */
export function slowestFirst(files, times) {
  const ms = expectedTimes(files, times);
  return [...files].sort((a, b) => ms(b) - ms(a) || (a < b ? -1 : a > b ? 1 : 0));
}

/** The median of `times`' values (0 when it has none): the time of a file no run has timed yet. */
export function medianTime(times) {
  const known = Object.values(times).filter((ms) => typeof ms === 'number').sort((a, b) => a - b);
  return known.length ? known[Math.floor(known.length / 2)] : 0;
}

/**
 * Fold the lines scripts/test-file-timer.mjs appended into the cache, then remove them. `groups`
 * maps a group entry's path (relative, forward slashes: scripts/test-groups.mjs) to its members:
 * a group's time is shared among them in proportion to their previous times.
 */
export function saveTimes(root, linesPath, groups = {}) {
  if (!existsSync(linesPath)) return;
  const times = readTimes(root);
  const median = medianTime(times);
  const before = (f) => (typeof times[f] === 'number' && times[f] > 0 ? times[f] : median || 1);
  for (const line of readFileSync(linesPath, 'utf8').split('\n')) {
    if (!line) continue;
    try {
      const { file, ms } = JSON.parse(line);
      if (typeof file !== 'string' || typeof ms !== 'number') continue;
      const key = relative(root, file).split(sep).join('/');
      const members = groups[key];
      if (!members) {
        times[key] = ms;
        continue;
      }
      const total = members.reduce((sum, m) => sum + before(m), 0);
      const shares = members.map((m) => Math.round((ms * before(m)) / total));
      members.forEach((m, i) => {
        times[m] = shares[i];
      });
    } catch {
      // a line cut by a killed process: skip it
    }
  }
  mkdirSync(dirname(cachedTimesPath(root)), { recursive: true });
  writeFileSync(cachedTimesPath(root), `${JSON.stringify(times, Object.keys(times).sort(), 2)}\n`);
  rmSync(linesPath, { force: true });
}
