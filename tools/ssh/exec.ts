/**
 * One command on one session channel: stdin closed at once, stdout and stderr collected under
 * a shared byte cap, a deadline, cancellation, and a kill that reaches the whole remote process
 * group (OpenSSH answers a `signal` request with killpg on the session).
 */
import type { Client, ClientChannel } from 'ssh2';
import { ErrorCode, WardenError } from '../../src/tool-api.js';

/** What one remote command produced. */
export interface ExecResult {
  stdout: string;
  stderr: string;
  exitCode: number | null;
  /** Set when the command ended by a signal (e.g. KILL after the output cap). */
  exitSignal: string | null;
  truncated: boolean;
  durationMs: number;
}

/** Limits for one command. */
export interface ExecOptions {
  timeoutMs: number;
  maxBytes: number;
  signal?: AbortSignal;
  /** How long to wait for the channel to close after a kill before giving up on it. */
  killGraceMs?: number;
}

/**
 * Send a signal request even after stdin was closed. Why not `channel.signal()`: ssh2 drops
 * the request once the local side has ended writing, and stdin is always ended at once here.
 */
export function signalChannel(ch: ClientChannel, name: string): void {
  const c = ch as unknown as { outgoing?: { id: number; state: string }; _client?: { _protocol?: { signal(id: number, sig: string): void } } };
  try {
    if ((c.outgoing?.state === 'open' || c.outgoing?.state === 'eof') && c._client?._protocol) c._client._protocol.signal(c.outgoing.id, name);
  } catch {
    /* the channel is already gone */
  }
}

/** Run `command` on an open client; resolves with output or rejects with a coded error. */
export function execOnClient(client: Client, command: string, o: ExecOptions): Promise<ExecResult> {
  const started = performance.now();
  return new Promise<ExecResult>((resolve, reject) => {
    if (o.signal?.aborted) return reject(new WardenError(ErrorCode.BACKEND, 'the call was cancelled before the command started'));
    client.exec(command, (err, ch) => {
      if (err) return reject(new WardenError(ErrorCode.BACKEND, `the host refused a session: ${err.message}`));
      const out: Buffer[] = [];
      const errs: Buffer[] = [];
      let bytes = 0;
      let truncated = false;
      let exitCode: number | null = null;
      let exitSignal: string | null = null;
      let exited = false;
      let why: 'timeout' | 'cancel' | 'lost' | null = null;
      let done = false;
      let grace: NodeJS.Timeout | undefined;

      const kill = () => {
        signalChannel(ch, 'KILL');
        try {
          ch.close();
        } catch {
          /* already closed */
        }
        grace ??= setTimeout(finish, o.killGraceMs ?? 2000);
      };
      const take = (into: Buffer[]) => (d: Buffer) => {
        if (truncated) return;
        const room = o.maxBytes - bytes;
        if (d.length > room) {
          if (room > 0) into.push(d.subarray(0, room));
          bytes = o.maxBytes;
          truncated = true;
          kill();
          return;
        }
        into.push(d);
        bytes += d.length;
      };
      const timer = setTimeout(() => {
        why ??= 'timeout';
        kill();
      }, o.timeoutMs);
      const onAbort = () => {
        why ??= 'cancel';
        kill();
      };
      const onLost = () => {
        if (!exited) why ??= 'lost';
      };
      o.signal?.addEventListener('abort', onAbort, { once: true });
      client.once('close', onLost);

      function finish(): void {
        if (done) return;
        done = true;
        clearTimeout(timer);
        if (grace) clearTimeout(grace);
        o.signal?.removeEventListener('abort', onAbort);
        client.removeListener('close', onLost);
        const durationMs = Math.round((performance.now() - started) * 1000) / 1000;
        const secs = Math.round(o.timeoutMs / 100) / 10;
        if (why === 'timeout') return reject(new WardenError(ErrorCode.TIMEOUT, `the command ran longer than ${secs}s and was killed on the host`));
        if (why === 'cancel') return reject(new WardenError(ErrorCode.BACKEND, 'the call was cancelled; the command was killed on the host'));
        if (!exited && !truncated) {
          return reject(new WardenError(ErrorCode.BACKEND, 'the host closed the connection while the command was running; its outcome is unknown'));
        }
        resolve({
          stdout: Buffer.concat(out).toString('utf8'),
          stderr: Buffer.concat(errs).toString('utf8'),
          exitCode,
          exitSignal,
          truncated,
          durationMs,
        });
      }

      ch.on('data', take(out));
      ch.stderr.on('data', take(errs));
      ch.on('exit', (code: number | null, sig?: string) => {
        exited = true;
        if (typeof code === 'number') exitCode = code;
        if (typeof sig === 'string') exitSignal = sig;
      });
      ch.on('error', () => undefined);
      ch.on('close', () => {
        // A closed connection closes its channels first; let the client 'close' land before judging.
        setImmediate(finish);
      });
      ch.end();
    });
  });
}
