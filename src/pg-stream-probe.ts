/**
 * `pg` picks its socket when it loads (pg/lib/stream.js). On a runtime without a global
 * `navigator` (Node 20; Node 21 and later have one) it probes for Cloudflare Workers by building a
 * `Response`, and touching `Response` makes Node load its whole fetch implementation (undici):
 * about 25 ms of CPU at every start of a process that loads `pg` (a `warden serve` start on a
 * slow machine), for a class Warden never uses. So this module loads that one file first, with a
 * `navigator` in place such as Node 21 has (its `userAgent` is not Cloudflare's), which answers the
 * probe before it gets that far; the global is removed again at once. `pg` then finds the file
 * loaded and is otherwise the same. Every module that imports `pg` imports this one first.
 */
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);

/** Load pg/lib/stream.js without its probe loading Node's fetch. Idempotent (require caches it). */
export function loadPgStream(): void {
  const g = globalThis as { navigator?: unknown };
  if (g.navigator !== undefined) {
    require('pg/lib/stream.js');
    return;
  }
  Object.defineProperty(g, 'navigator', { value: { userAgent: `Node.js/${process.versions.node.split('.')[0]}` }, configurable: true, writable: true, enumerable: false });
  try {
    require('pg/lib/stream.js');
  } finally {
    delete g.navigator;
  }
}

loadPgStream();
