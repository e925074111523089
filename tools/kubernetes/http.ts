/**
 * Bounded HTTPS GETs against the API server: a per-request timeout, a byte cap while reading,
 * and Kubernetes `Status` bodies mapped to coded errors. Why not the generated clients: they
 * buffer unbounded bodies and hide the status code behind exceptions.
 */
import https from 'node:https';
import { ErrorCode, WardenError } from '../../src/tool-api.js';

/** TLS material and headers for one request (from the kubeconfig, never from the agent). */
export interface RequestTarget {
  origin: URL;
  headers: Record<string, string>;
  tls: https.RequestOptions;
  agent: https.Agent;
}

/** A non-2xx answer from the API server, with its Status message. */
export class KubeApiError extends Error {
  constructor(
    readonly status: number,
    readonly reason: string,
    message: string,
  ) {
    super(message);
  }
}

/** The raw answer of one bounded GET. */
export interface BoundedBody {
  body: Buffer;
  truncated: boolean;
}

/** Read `message` and `reason` from a Kubernetes Status body, if that is what it is. */
export function statusOf(body: string): { message: string; reason: string } {
  try {
    const s = JSON.parse(body) as { kind?: string; message?: unknown; reason?: unknown };
    return { message: typeof s.message === 'string' ? s.message.slice(0, 500) : '', reason: typeof s.reason === 'string' ? s.reason : '' };
  } catch {
    return { message: body.slice(0, 200).replace(/\s+/g, ' ').trim(), reason: '' };
  }
}

/** GET a path; stops reading at maxBytes (truncated) unless `failOverCap`, then throws. */
export function boundedGet(t: RequestTarget, path: string, o: { timeoutMs: number; maxBytes: number; accept: string; signal?: AbortSignal }): Promise<BoundedBody> {
  return new Promise((resolve, reject) => {
    const url = new URL(path, t.origin);
    const req = https.request(url, { ...t.tls, agent: t.agent, method: 'GET', headers: { ...t.headers, Accept: o.accept, 'User-Agent': 'warden' } });
    const timer = setTimeout(() => req.destroy(new WardenError(ErrorCode.TIMEOUT, `the Kubernetes API server did not answer within ${o.timeoutMs} ms`)), o.timeoutMs);
    const onAbort = () => req.destroy(new WardenError(ErrorCode.CANCELLED, 'the call was cancelled'));
    o.signal?.addEventListener('abort', onAbort, { once: true });
    const done = () => {
      clearTimeout(timer);
      o.signal?.removeEventListener('abort', onAbort);
    };
    req.on('error', (e) => {
      done();
      reject(e);
    });
    req.on('response', (res) => {
      const chunks: Buffer[] = [];
      let size = 0;
      let truncated = false;
      res.on('data', (c: Buffer) => {
        if (truncated) return;
        if (size + c.length > o.maxBytes) {
          chunks.push(c.subarray(0, o.maxBytes - size));
          size = o.maxBytes;
          truncated = true;
          res.destroy();
          finish();
          return;
        }
        chunks.push(c);
        size += c.length;
      });
      let finished = false;
      const finish = () => {
        if (finished) return;
        finished = true;
        done();
        const body = Buffer.concat(chunks);
        const code = res.statusCode ?? 0;
        if (code >= 200 && code < 300) return resolve({ body, truncated });
        const s = statusOf(body.toString('utf8'));
        reject(new KubeApiError(code, s.reason, s.message));
      };
      res.on('end', finish);
      res.on('error', (e) => {
        if (!finished) {
          finished = true;
          done();
          reject(e);
        }
      });
    });
    req.end();
  });
}

/** Map any failure of an API call to a coded, secret-free WardenError. */
export function kubeError(e: unknown, connection: string, what: string): WardenError {
  if (e instanceof WardenError) return e;
  if (e instanceof KubeApiError) {
    if (e.status === 401) {
      return new WardenError(ErrorCode.BACKEND, `the Kubernetes API server of connection ${connection} rejected Warden's credential (401 Unauthorized: the token may have expired) while trying to ${what}`, { status: 401 });
    }
    if (e.status === 403) {
      return new WardenError(ErrorCode.BACKEND, `the Kubernetes API server of connection ${connection} forbids Warden to ${what} (403 Forbidden${e.message ? `: ${e.message}` : ''})`, { status: 403 });
    }
    if (e.status === 404) return new WardenError(ErrorCode.BACKEND, `not found while trying to ${what} (404${e.message ? `: ${e.message}` : ''})`, { status: 404 });
    return new WardenError(ErrorCode.BACKEND, `the Kubernetes API server answered ${e.status}${e.reason ? ` ${e.reason}` : ''} while trying to ${what}${e.message ? `: ${e.message}` : ''}`, { status: e.status });
  }
  const err = e as { code?: string; message?: string };
  const code = typeof err.code === 'string' ? err.code : '';
  if (/^(ECONNREFUSED|ENOTFOUND|EHOSTUNREACH|ENETUNREACH|ECONNRESET|EAI_AGAIN|EPIPE)$/.test(code)) {
    return new WardenError(ErrorCode.BACKEND, `the Kubernetes API server of connection ${connection} is unreachable (${code}) while trying to ${what}`);
  }
  if (/CERT|SELF_SIGNED|UNABLE_TO_VERIFY|ERR_TLS/.test(code)) {
    return new WardenError(ErrorCode.BACKEND, `the TLS certificate of the Kubernetes API server of connection ${connection} was not accepted (${code})`);
  }
  return new WardenError(ErrorCode.BACKEND, `Kubernetes API error while trying to ${what}${code ? ` (${code})` : ''}`);
}
