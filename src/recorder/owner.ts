/**
 * Session ownership: which process wrote a session, so that startup recovery only touches
 * sessions whose writer is gone (several stdio Warden processes may share one file).
 */
import { hostname } from 'node:os';

/** Store instances open in this process; why: their calls are in flight, not interrupted. */
export const LIVE_INSTANCES = new Set<string>();

/** Whether the process that owns a session may still be writing it; why: never interrupt a live call. */
export function ownerAlive(owner: unknown): boolean {
  if (typeof owner !== 'string') return false;
  let o: { host?: unknown; pid?: unknown; instance?: unknown };
  try {
    o = JSON.parse(owner) as typeof o;
  } catch {
    return false;
  }
  // WAL needs shared memory on one host: a writer on another host cannot be live on this file
  // (a moved volume, a renamed container), so its open calls were interrupted.
  if (o.host !== hostname()) return false;
  if (o.pid === process.pid) return LIVE_INSTANCES.has(String(o.instance));
  const pid = Number(o.pid);
  if (!Number.isInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** The owner tag stored on each session this instance opens. */
export function ownerTag(instance: string): string {
  return JSON.stringify({ host: hostname(), pid: process.pid, instance });
}
