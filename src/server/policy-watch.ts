/**
 * Policy hot reload: on SIGHUP, or when a policy file or warden.yaml changes, recompile and swap
 * atomically (Runtime.reload). A file that does not load keeps the last good policy and the log
 * says why (FILE:LINE problems). warden.yaml sections other than `policies:` apply at the next
 * start; a reload that finds them changed warns with their names. A changed `policies:` list
 * moves the watch to its folders. Calls already running finish under the policy they started
 * with: the pipeline reads the policy once per call. A reload that adds a rule's rows or bytes
 * quota warns that the quota starts from zero (quotasAdded): usage is counted only under a quota
 * that applied when the call ran.
 *
 * A change seen by the watcher is a deploy that may still be writing: `git checkout`, rsync
 * without --delay-updates or `cp -r` unlink or truncate a file and write it again, and a file
 * read half-way can be missing or cut at a rule boundary (still valid YAML, the last denies gone).
 * Such a policy has fewer denies than the old one and the new one alike, so the watcher:
 * - waits until the files settle: the watched folders' matching files, with each one's size,
 *   mtime and inode, the same at two looks `settleMs` apart. Bounded by `settleTimeoutMs`: files
 *   that keep changing keep the last good policy, logged, and a change seen meanwhile tries again;
 * - holds a reload that would lose part of the running policy (policyLosses): a file it was
 *   loaded from no longer loads, or a deny rule (by id), a masked column or a masking detector is
 *   gone. It looks again after each settle: a rewrite that completes within `holdMs` loads whole,
 *   and a loss still there after it is applied as deliberate, with a warning naming each dropped
 *   file and its deny rules. A deliberate deletion thus applies about two seconds late.
 * A reload that adds an allow rule (by id) is held the same way, without the warning: a deploy cut
 * inside the rule it adds loads a grant wider than the one being written (a deliberate grant thus
 * applies about two seconds late; SIGHUP at once).
 * A deny cut inside its own block-style list (`groups:` one per line) keeps its id: it counts as
 * a loss when it no longer names an entry it named; so does an allow kept by id that no longer
 * names a term (a cut before its `sql:`, `who:` or `approval:` grants more; policy-diff.ts lostTerms). SIGHUP (and Runtime.reload) is an admin's
 * deliberate act: it applies at once, the warning logged all the same.
 *
 * Symlinks on the way to a watched folder, and policy files that are links, are watched where
 * they change (watch-links.ts); a watch whose folder now resolves elsewhere is made again.
 */
import { readdirSync, statSync, watch, type FSWatcher } from 'node:fs';
import { linkTarget, realPath, symlinksOnPath } from './watch-links.js';
import { basename, dirname, join, resolve } from 'node:path';
import type { Runtime } from './runtime.js';
import { policyNameMatcher } from '../config/policy-globs.js';
import type { CompiledPolicy } from '../policy/types.js';
import { allowsAdded, describeLosses, policyLosses, quotasAdded } from './policy-diff.js';

type Log = (level: 'debug' | 'info' | 'warn' | 'error', msg: string, data?: Record<string, unknown>) => void;

/** Options (tests shorten or lengthen them). */
export interface WatchOptions {
  /** Quiet time after a file event before a reload starts (default 200 ms). */
  debounceMs?: number;
  /** Time between the two looks at the files that must agree before a reload reads them (default 250 ms). */
  settleMs?: number;
  /** How long the files may keep changing before the reload gives up and keeps the last good policy (default 4000 ms). */
  settleTimeoutMs?: number;
  /** How long a reload that loses a file, deny rules or masking is held before it applies with a warning (default 2000 ms). */
  holdMs?: number;
  /** Also reload on SIGHUP (default true). */
  sighup?: boolean;
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms).unref?.());

/** Start watching; returns a function that stops watching (and removes the SIGHUP handler). */
export function watchPolicies(rt: Runtime, log: Log, opts: WatchOptions = {}): () => void {
  const debounceMs = opts.debounceMs ?? 200;
  const settleMs = opts.settleMs ?? 250;
  const settleTimeoutMs = opts.settleTimeoutMs ?? 4000;
  const holdMs = opts.holdMs ?? 2000;
  const watchers = new Map<string, { watcher: FSWatcher; real: string | null }>();
  let filters = new Map<string, (name: string) => boolean>();
  let timer: NodeJS.Timeout | null = null;
  let stopped = false;
  /** A watcher reload in progress (settling or held), and the trigger of a change seen meanwhile. */
  let running = false;
  let again: string | null = null;

  /** Swap in a prepared policy and log what the swap did. */
  const apply = (why: string, old: CompiledPolicy, staged: { policy: CompiledPolicy; apply(): CompiledPolicy }, held?: number) => {
    const lost = describeLosses(policyLosses(old, staged.policy));
    const p = staged.apply();
    if (lost) {
      const how = held === undefined ? 'applied at once' : `still so after ${held} ms: applied as a deliberate change`;
      log('warn', `policy reload drops part of the running policy: ${lost} (${how})`, { trigger: why, previous_version: old.version, policy_version: p.version });
    }
    const quotas = quotasAdded(old, p);
    if (quotas.length) {
      log('warn', 'policy reload adds hourly quotas; each starts from zero: rows and bytes used before the reload were not counted under it (with per-process counters, the SQLite store, a rule that already had a limit counted them)', { trigger: why, quotas });
    }
    if (p.version !== old.version) log('info', 'policy reloaded', { trigger: why, previous_version: old.version, policy_version: p.version, files: p.files.length });
    else log('debug', 'policy unchanged after reload', { trigger: why, policy_version: p.version });
    const sections = rt.pendingRestart?.() ?? [];
    if (sections.length) log('warn', 'warden.yaml changes that take effect only after a restart', { trigger: why, sections });
  };

  const failed = (why: string, version: string, e: unknown) =>
    log('error', 'policy reload failed; keeping the previous policy', { trigger: why, policy_version: version, message: (e as Error).message });

  /** SIGHUP: at once, as the admin asked. */
  const reloadNow = (why: string) => {
    if (stopped) return;
    const old = rt.policy();
    try {
      apply(why, old, rt.prepareReload());
    } catch (e) {
      failed(why, old.version, e);
    }
    rewatch();
  };

  /** The watched files as one string: names, sizes, mtimes, inodes. */
  function snapshot(): string {
    const out: string[] = [];
    for (const [dir, test] of [...filters].sort(([a], [b]) => a.localeCompare(b))) {
      let names: string[];
      try {
        names = readdirSync(dir).filter((n) => test(n)).sort();
      } catch {
        out.push(`${dir}: unreadable`);
        continue;
      }
      for (const n of names) {
        try {
          const st = statSync(join(dir, n));
          out.push(`${join(dir, n)}\0${st.size}\0${st.mtimeMs}\0${st.ino}`);
        } catch {
          out.push(`${join(dir, n)}: gone`);
        }
      }
    }
    return out.join('\n');
  }

  /** Whether the files stood still for settleMs before settleTimeoutMs ran out. */
  async function settle(): Promise<boolean> {
    const end = Date.now() + settleTimeoutMs;
    let prev = snapshot();
    for (;;) {
      await sleep(settleMs);
      if (stopped) return false;
      const now = snapshot();
      if (now === prev) return true;
      if (Date.now() >= end) return false;
      prev = now;
    }
  }

  /** A watcher-triggered reload: settle, compile, hold a loss (policyLosses) up to holdMs, swap. */
  async function reloadSettled(why: string): Promise<void> {
    let heldSince: number | null = null;
    for (;;) {
      if (!(await settle())) {
        if (!stopped) log('warn', 'policy files kept changing; keeping the previous policy until they settle', { trigger: why, policy_version: rt.policy().version, waited_ms: settleTimeoutMs });
        return;
      }
      const old = rt.policy();
      let staged: { policy: CompiledPolicy; apply(): CompiledPolicy };
      try {
        staged = rt.prepareReload();
      } catch (e) {
        failed(why, old.version, e);
        return;
      }
      const lost = describeLosses(policyLosses(old, staged.policy));
      // A new allow may be a rule the deploy is still writing (cut before its conditions): held alike, not warned about.
      const added = allowsAdded(old, staged.policy);
      const hold = lost ?? (added.length ? `new allow rule ${added.join(', ')}` : null);
      if (hold && heldSince === null) {
        heldSince = Date.now();
        log('info', `policy reload held: ${hold}; looking again in case a deploy is still writing`, { trigger: why, policy_version: old.version, hold_ms: holdMs });
      }
      if (hold && Date.now() - heldSince! < holdMs) continue;
      apply(why, old, staged, lost && heldSince !== null ? Date.now() - heldSince : undefined);
      return;
    }
  }

  const run = (why: string) => {
    if (stopped) return;
    if (running) {
      again = why;
      return;
    }
    running = true;
    void reloadSettled(why)
      .catch((e) => failed(why, rt.policy().version, e))
      .finally(() => {
        running = false;
        rewatch();
        const next = again;
        again = null;
        if (next !== null) run(next);
      });
  };

  const schedule = (why: string) => {
    if (stopped) return;
    if (timer) clearTimeout(timer);
    timer = setTimeout(() => {
      timer = null;
      run(why);
    }, debounceMs);
    timer.unref?.();
  };

  /**
   * Folders to watch: the config file's, each policy pattern's, each loaded policy file's. Derived
   * again after every reload (rewatch): the patterns are those of the warden.yaml last read, so a
   * `policies:` list pointing at a new folder is watched there, and the old folder is let go.
   */
  function folders(): Map<string, (name: string) => boolean> {
    const out = new Map<string, ((name: string) => boolean)[]>();
    const add = (dir: string, test: (name: string) => boolean) => out.set(dir, [...(out.get(dir) ?? []), test]);
    const configFile = resolve(rt.config.file);
    add(dirname(configFile), (n) => n === basename(configFile));
    for (const pat of rt.policyPatterns?.() ?? rt.config.policyPatterns ?? []) {
      add(dirname(resolve(pat)), policyNameMatcher(basename(pat)));
    }
    for (const f of rt.policy().files) {
      add(dirname(resolve(f)), (n) => n === basename(f));
      // A file that links elsewhere (policies/team.yaml -> ../shared/team.yaml) changes there.
      const target = linkTarget(resolve(f));
      if (target) add(dirname(target), (n) => n === basename(target));
    }
    // A symlink on the way to a watched folder (current -> releases/v1) is swapped in its parent.
    for (const dir of [...out.keys()]) for (const link of symlinksOnPath(dir)) add(dirname(link), (n) => n === basename(link));
    return new Map([...out].map(([d, tests]) => [d, (n: string) => tests.some((t) => t(n))]));
  }

  function rewatch() {
    if (stopped) return;
    const want = folders();
    filters = want;
    for (const [dir, w] of watchers) {
      // A watch holds the folder it found (an inode): after a symlink swap the path names another.
      if (!want.has(dir) || realPath(dir) !== w.real) {
        w.watcher.close();
        watchers.delete(dir);
      }
    }
    for (const dir of want.keys()) {
      if (watchers.has(dir)) continue;
      try {
        // Watch folders, not files: editors replace files by rename, which a file watch misses.
        const w = watch(dir, { persistent: false }, (_event, name) => {
          const n = name ? basename(name.toString()) : null;
          if (n === null || filters.get(dir)?.(n)) schedule(`file change${n ? `: ${n}` : ''}`);
        });
        w.on('error', (e) => log('warn', 'policy watch error', { dir, message: e.message }));
        watchers.set(dir, { watcher: w, real: realPath(dir) });
      } catch (e) {
        log('warn', 'cannot watch policy folder; reload with SIGHUP', { dir, message: (e as Error).message });
      }
    }
  }

  const onHup = () => reloadNow('SIGHUP');
  if (opts.sighup !== false) process.on('SIGHUP', onHup);
  rewatch();
  return () => {
    stopped = true;
    if (timer) clearTimeout(timer);
    for (const w of watchers.values()) w.watcher.close();
    watchers.clear();
    if (opts.sighup !== false) process.off('SIGHUP', onHup);
  };
}
