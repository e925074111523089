/**
 * Policy hot reload: on SIGHUP, or when a policy file or warden.yaml changes, recompile and swap
 * atomically (Runtime.reload). A file that does not load keeps the last good policy and the log
 * says why (FILE:LINE problems). warden.yaml sections other than `policies:` apply at the next
 * start; a reload that finds them changed warns with their names. A changed `policies:` list
 * moves the watch to its folders. Calls already running finish under the policy they started
 * with: the pipeline reads the policy once per call. A reload that adds a rule's rows or bytes
 * quota warns that the quota starts from zero (quotasAdded): usage is counted only under a quota
 * that applied when the call ran.
 */
import { watch, type FSWatcher } from 'node:fs';
import { basename, dirname, resolve } from 'node:path';
import type { Runtime } from './runtime.js';
import { policyNameMatcher } from '../config/policy-globs.js';
import type { CompiledPolicy } from '../policy/types.js';

type Log = (level: 'debug' | 'info' | 'warn' | 'error', msg: string, data?: Record<string, unknown>) => void;

/** Options for tests: debounce window. */
export interface WatchOptions {
  debounceMs?: number;
  /** Also reload on SIGHUP (default true). */
  sighup?: boolean;
}

/**
 * The hourly quotas a new policy adds to its rules ("rule: rows_per_hour"). Why: rows and bytes are
 * recorded only under the quotas that apply to a call (a call under no limit makes no round trip
 * to the shared counters), so a quota added by a reload counts from the reload on, not the hour
 * before it; the reload says so rather than let an admin believe the earlier usage counts.
 */
export function quotasAdded(before: Pick<CompiledPolicy, 'rules'>, after: Pick<CompiledPolicy, 'rules'>): string[] {
  const had = new Map(before.rules.map((r) => [r.id, r.limits]));
  const added: string[] = [];
  for (const r of after.rules) {
    for (const q of ['rows_per_hour', 'bytes_per_hour'] as const) {
      if (r.limits?.[q] !== undefined && had.get(r.id)?.[q] === undefined) added.push(`${r.id}: ${q}`);
    }
  }
  return added;
}

/** Start watching; returns a function that stops watching (and removes the SIGHUP handler). */
export function watchPolicies(rt: Runtime, log: Log, opts: WatchOptions = {}): () => void {
  const debounceMs = opts.debounceMs ?? 200;
  const watchers = new Map<string, FSWatcher>();
  let filters = new Map<string, (name: string) => boolean>();
  let timer: NodeJS.Timeout | null = null;
  let stopped = false;

  const reload = (why: string) => {
    if (stopped) return;
    const old = rt.policy();
    const before = old.version;
    try {
      const p = rt.reload();
      const quotas = quotasAdded(old, p);
      if (quotas.length) {
        log('warn', 'policy reload adds hourly quotas; each starts from zero: rows and bytes used before the reload were not counted under it (with per-process counters, the SQLite store, a rule that already had a limit counted them)', { trigger: why, quotas });
      }
      if (p.version !== before) log('info', 'policy reloaded', { trigger: why, previous_version: before, policy_version: p.version, files: p.files.length });
      else log('debug', 'policy unchanged after reload', { trigger: why, policy_version: p.version });
      const sections = rt.pendingRestart?.() ?? [];
      if (sections.length) log('warn', 'warden.yaml changes that take effect only after a restart', { trigger: why, sections });
    } catch (e) {
      log('error', 'policy reload failed; keeping the previous policy', { trigger: why, policy_version: before, message: (e as Error).message });
    }
    rewatch();
  };

  const schedule = (why: string) => {
    if (stopped) return;
    if (timer) clearTimeout(timer);
    timer = setTimeout(() => {
      timer = null;
      reload(why);
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
    for (const f of rt.policy().files) add(dirname(resolve(f)), (n) => n === basename(f));
    return new Map([...out].map(([d, tests]) => [d, (n: string) => tests.some((t) => t(n))]));
  }

  function rewatch() {
    if (stopped) return;
    const want = folders();
    filters = want;
    for (const [dir, w] of watchers) {
      if (!want.has(dir)) {
        w.close();
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
        watchers.set(dir, w);
      } catch (e) {
        log('warn', 'cannot watch policy folder; reload with SIGHUP', { dir, message: (e as Error).message });
      }
    }
  }

  const onHup = () => reload('SIGHUP');
  if (opts.sighup !== false) process.on('SIGHUP', onHup);
  rewatch();
  return () => {
    stopped = true;
    if (timer) clearTimeout(timer);
    for (const w of watchers.values()) w.close();
    watchers.clear();
    if (opts.sighup !== false) process.off('SIGHUP', onHup);
  };
}
