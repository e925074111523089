/**
 * The client side of the Kubernetes exec subprotocols (`v5.channel.k8s.io`, falling back to
 * `v4.channel.k8s.io`): every binary message starts with a channel byte (1 stdout, 2 stderr,
 * 3 status as a JSON `Status`). Stdin is never opened. Timeout and byte caps end the stream.
 */
import { createRequire } from 'node:module';
import type https from 'node:https';
import type { IncomingMessage } from 'node:http';
import { ErrorCode, WardenError } from '../../src/tool-api.js';
import { KubeApiError, statusOf } from './http.js';

/** The slice of the `ws` client used here (ws ships no types of its own). */
interface WsClient {
  readonly protocol: string;
  on(ev: 'open', fn: () => void): void;
  on(ev: 'message', fn: (data: Buffer, isBinary: boolean) => void): void;
  on(ev: 'close', fn: (code: number) => void): void;
  on(ev: 'error', fn: (e: Error) => void): void;
  on(ev: 'unexpected-response', fn: (req: unknown, res: IncomingMessage) => void): void;
  close(code?: number): void;
  terminate(): void;
}
type WsCtor = new (url: string, protocols: string[], opts: Record<string, unknown>) => WsClient;
const requireHere = createRequire(import.meta.url);
let wsCtor: WsCtor | undefined;
/** ws, loaded with the first exec: about 7 ms of every `warden serve` start otherwise, Kubernetes configured or not. */
const webSocket = (): WsCtor => (wsCtor ??= requireHere('ws') as WsCtor);

/** What one exec produced. */
export interface ExecResult {
  stdout: string;
  stderr: string;
  exitCode: number | null;
  truncated: boolean;
  protocol: string;
}

/** Options of one exec stream. */
export interface ExecStreamOptions {
  url: URL;
  headers: Record<string, string>;
  tls: https.RequestOptions;
  protocols: string[];
  timeoutMs: number;
  maxBytes: number;
  signal?: AbortSignal;
}

interface StatusBody {
  status?: string;
  reason?: string;
  message?: string;
  details?: { causes?: { reason?: string; message?: string }[] };
}

/** Exit code from a v4/v5 status message; a non-exit failure becomes a coded error. */
export function exitCodeOf(s: StatusBody): number {
  if (s.status === 'Success') return 0;
  if (s.reason === 'NonZeroExitCode') {
    const c = s.details?.causes?.find((x) => x.reason === 'ExitCode');
    const n = Number(c?.message);
    if (Number.isInteger(n)) return n;
  }
  throw new WardenError(ErrorCode.BACKEND, `exec failed: ${typeof s.message === 'string' ? s.message.slice(0, 300) : (s.reason ?? 'unknown status')}`);
}

/** Run one exec over a WebSocket and collect its bounded output. */
export function execStream(o: ExecStreamOptions): Promise<ExecResult> {
  return new Promise((resolve, reject) => {
    const wsUrl = new URL(o.url);
    wsUrl.protocol = wsUrl.protocol === 'http:' ? 'ws:' : 'wss:';
    const WebSocket = webSocket();
    const ws = new WebSocket(wsUrl.toString(), o.protocols, { ...o.tls, headers: { ...o.headers, 'User-Agent': 'warden' }, handshakeTimeout: o.timeoutMs, perMessageDeflate: false });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    let bytes = 0;
    let truncated = false;
    let settled = false;
    let opened = false;
    const settle = (fn: () => void) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      o.signal?.removeEventListener('abort', onAbort);
      fn();
    };
    const result = (exitCode: number | null): ExecResult => ({
      stdout: Buffer.concat(out).toString('utf8'),
      stderr: Buffer.concat(err).toString('utf8'),
      exitCode,
      truncated,
      protocol: ws.protocol,
    });
    const timer = setTimeout(() => {
      ws.terminate();
      settle(() => reject(new WardenError(ErrorCode.TIMEOUT, `the command did not finish within ${Math.round(o.timeoutMs / 100) / 10} s; the stream was closed`)));
    }, o.timeoutMs);
    const onAbort = () => {
      ws.terminate();
      // The client's cancel, coded so (the transcript read WARDEN_TIMEOUT); the command may have run: no NOTHING_SENT.
      settle(() => reject(new WardenError(ErrorCode.CANCELLED, 'the call was cancelled; the stream was closed')));
    };
    o.signal?.addEventListener('abort', onAbort, { once: true });
    ws.on('open', () => {
      opened = true;
      if (!o.protocols.includes(ws.protocol)) {
        ws.terminate();
        settle(() => reject(new WardenError(ErrorCode.BACKEND, `the API server chose an unsupported exec subprotocol "${ws.protocol.slice(0, 40)}"`)));
      }
    });
    ws.on('unexpected-response', (_req, res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.length < 64 && chunks.push(c));
      res.on('end', () => {
        const s = statusOf(Buffer.concat(chunks).toString('utf8'));
        settle(() => reject(new KubeApiError(res.statusCode ?? 0, s.reason, s.message)));
      });
      res.on('error', () => settle(() => reject(new KubeApiError(res.statusCode ?? 0, '', ''))));
    });
    ws.on('message', (data, isBinary) => {
      if (settled || !isBinary || data.length < 1) return;
      const channel = data[0];
      const payload = data.subarray(1);
      if (channel === 1 || channel === 2) {
        if (payload.length === 0) return;
        const room = o.maxBytes - bytes;
        const keep = payload.length > room ? payload.subarray(0, Math.max(room, 0)) : payload;
        (channel === 1 ? out : err).push(keep);
        bytes += keep.length;
        if (payload.length > room) {
          truncated = true;
          ws.terminate();
          settle(() => resolve(result(null)));
        }
      } else if (channel === 3) {
        let status: StatusBody;
        try {
          status = JSON.parse(payload.toString('utf8')) as StatusBody;
        } catch {
          settle(() => reject(new WardenError(ErrorCode.BACKEND, 'the exec status channel sent malformed JSON')));
          ws.terminate();
          return;
        }
        try {
          const code = exitCodeOf(status);
          settle(() => resolve(result(code)));
        } catch (e) {
          settle(() => reject(e));
        }
        ws.close(1000);
      }
      // channel 255 (v5 CLOSE) and others: nothing to do, stdin is never opened.
    });
    ws.on('close', () => {
      settle(() => reject(new WardenError(ErrorCode.BACKEND, opened ? 'the exec stream closed without an exit status (was the pod deleted?)' : 'the exec stream could not be opened')));
    });
    ws.on('error', (e) => settle(() => reject(e)));
  });
}
