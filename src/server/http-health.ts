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

type Readiness = 'ready' | 'transcript store not answering' | 'transcript store unavailable';

/**
 * The probes of one server. /readyz asks the store at most once a second, however often it is
 * probed: the endpoint needs no token, so it must not let anyone load the store.
 */
export function healthProbes(deps: HealthDeps): (path: string, req: IncomingMessage, res: ServerResponse) => Promise<void> {
  let last: { at: number; result: Promise<Readiness> } | null = null;
  const ask = async (): Promise<Readiness> => {
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<Readiness>((r) => (timer = setTimeout(() => r('transcript store not answering'), deps.timeoutMs ?? 2000)));
    try {
      return await Promise.race([deps.store.listSessions({ limit: 1 }).then((): Readiness => 'ready'), late]);
    } catch {
      return 'transcript store unavailable';
    } finally {
      clearTimeout(timer);
    }
  };
  return async (path, req, res) => {
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.writeHead(405, { allow: 'GET, HEAD' }).end();
      return;
    }
    if (deps.closing()) return answer(res, 503, 'stopping');
    if (path === '/healthz') return answer(res, 200, 'ok');
    if (!last || Date.now() - last.at >= 1000) last = { at: Date.now(), result: ask() };
    const r = await last.result;
    answer(res, r === 'ready' ? 200 : 503, r);
  };
}
