/**
 * Health probes for load balancers and orchestrators: `GET /healthz` (the process serves) and
 * `GET /readyz` (it can take calls: not shutting down, and the transcript store answers, since
 * a call never runs unrecorded). They answer before the Host check, because probes name the
 * server by its address, and they say nothing but a status word: no version, no store detail.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { TranscriptStore } from '../recorder/types.js';

/** What the probes look at. */
export interface HealthDeps {
  closing(): boolean;
  store: Pick<TranscriptStore, 'listSessions'>;
  /** How long /readyz waits for the store (default 2 s). */
  timeoutMs?: number;
}

/** The probe paths. */
export const HEALTH_PATHS: ReadonlySet<string> = new Set(['/healthz', '/readyz']);

function answer(res: ServerResponse, status: number, word: string): void {
  res.writeHead(status, { 'content-type': 'application/json', 'cache-control': 'no-store' }).end(JSON.stringify({ status: word }));
}

/** Answer a probe at `path` (one of HEALTH_PATHS). */
export async function serveHealth(path: string, req: IncomingMessage, res: ServerResponse, deps: HealthDeps): Promise<void> {
  if (req.method !== 'GET' && req.method !== 'HEAD') {
    res.writeHead(405, { allow: 'GET, HEAD' }).end();
    return;
  }
  if (deps.closing()) return answer(res, 503, 'stopping');
  if (path === '/healthz') return answer(res, 200, 'ok');
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<'late'>((r) => (timer = setTimeout(() => r('late'), deps.timeoutMs ?? 2000)));
  try {
    const r = await Promise.race([deps.store.listSessions({ limit: 1 }).then(() => 'ok' as const), late]);
    answer(res, r === 'ok' ? 200 : 503, r === 'ok' ? 'ready' : 'transcript store not answering');
  } catch {
    answer(res, 503, 'transcript store unavailable');
  } finally {
    clearTimeout(timer);
  }
}
