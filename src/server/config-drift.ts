/**
 * What a reload of warden.yaml does not apply. Why: a reload compiles the policy files the new
 * `policies:` names, but admins, rate limits, identity, connections and the rest are bound when
 * the server starts; an admin who takes someone off `admins:` and sees the reload succeed must
 * learn that it waits for a restart (the watcher warns with these section names).
 */
import type { ServerConfig } from '../config/server-config.js';

/**
 * Keys of ServerConfig a reload applies (or that only say where the file is, or that the server
 * never uses: `approvals.cli_as` is read by each `warden approvals` run from the file as it is).
 */
const APPLIED = new Set<string>(['file', 'baseDir', 'policyFiles', 'policyPatterns', 'approvals']);

/** The top-level warden.yaml sections that differ between the running config and the file now, sorted. */
export function restartOnlyChanges(running: ServerConfig, next: ServerConfig): string[] {
  const keys = new Set([...Object.keys(running), ...Object.keys(next)]);
  const out: string[] = [];
  for (const k of keys) {
    if (APPLIED.has(k)) continue;
    const a = JSON.stringify((running as unknown as Record<string, unknown>)[k]);
    const b = JSON.stringify((next as unknown as Record<string, unknown>)[k]);
    if (a !== b) out.push(k);
  }
  return out.sort();
}
