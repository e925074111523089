/**
 * One command on one session channel: stdin closed at once, stdout and stderr collected under
 * a shared byte cap, a deadline, cancellation, and a kill that reaches the whole remote process
 * group (OpenSSH answers a `signal` request with killpg on the session). The deadline and a
 * cancel hold from the moment the session is asked for, not only once the host answered.
 */
import type { Client, ClientChannel } from 'ssh2';
import { ErrorCode, WardenError, type ExecContext } from '../../src/tool-api.js';
import { cancelledError, seconds } from './call-deadline.js';
import { hostDescription, sessionRefusal } from './host-text.js';

/** What one remote command produced. */
export interface ExecResult {
  stdout: string;
  stderr: string;
  exitCode: number | null;
  /** Set when the command ended by a signal (SIGKILL after the output cap); "unknown" for a name that is not a signal name. */
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
  /** performance.now() value at which the call times out (default: timeoutMs from now). */
  deadline?: number;
  /** How long the host may take to answer a session request before the connection is closed (default 10 s). */
  answerTimeoutMs?: number;
  /** Where to say that a connection was closed as stuck. */
  log?: ExecContext['log'];
  /** Called once the host opened the session channel (the connector counts the host's sessions). */
  onSession?: () => void;
}

/**
 * The host refused the session channel itself (RFC 4254 channel open failure). Why a class: the
 * connector tells a host at its own session limit (sshd MaxSessions) from one that refuses
 * sessions at all by the reason code and by how many sessions it holds.
 */
export class SessionRefused extends WardenError {
  constructor(
    message: string,
    /** The RFC 4254 reason code the host gave. */
    readonly openFailure: number,
  ) {
    super(ErrorCode.BACKEND, message);
  }
}

/** RFC 4254 signal names as OpenSSH sends them (plus its SIG@openssh.com for the others). */
const SIGNAL_NAME = /^SIG(?:[A-Z][A-Z0-9]{0,11}|SIG@openssh\.com)$/;

/**
 * The exit-signal name the host sent, when it has the form of one; "unknown" otherwise. Why: it
 * is shown in Warden's own note, which the content detectors do not scan and the output cap
 * does not count, so a host must not be able to write free text there.
 */
export function signalName(sig: unknown): string | null {
  if (typeof sig !== 'string') return null;
  return SIGNAL_NAME.test(sig) ? sig : 'unknown';
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
  const deadline = o.deadline ?? started + o.timeoutMs;
  const secs = seconds(o.timeoutMs);
  return new Promise<ExecResult>((resolve, reject) => {
    if (o.signal?.aborted) return reject(cancelledError('the command was not started', true));
    // Until the host answers the session and exec requests, the deadline and a cancel still end
    // the call: a host that sits on them must not hold the call (and its session slot) forever.
    let answered = false;
    let gaveUp = false;
    const giveUp = (e: WardenError) => {
      if (gaveUp) return;
      gaveUp = true;
      clearTimeout(waitTimer);
      o.signal?.removeEventListener('abort', onWaitAbort);
      reject(e);
    };
    const waitTimer = setTimeout(
      () => giveUp(new WardenError(ErrorCode.TIMEOUT, `the host did not start the command within ${secs}s; should it start it late, it is killed at once`)),
      Math.max(0, deadline - performance.now()),
    );
    const onWaitAbort = () => giveUp(cancelledError('the command was not started; should the host start it late, it is killed at once'));
    o.signal?.addEventListener('abort', onWaitAbort, { once: true });
    // A host that does not answer a session request at all is stuck: ssh2 would still send the
    // command whenever the host confirms the session, so the connection is closed instead.
    const stuckTimer = setTimeout(() => {
      if (answered) return;
      o.log?.('warn', 'ssh host did not answer a session request; closing the connection', { after_ms: o.answerTimeoutMs ?? 10_000 });
      client.destroy();
      giveUp(new WardenError(ErrorCode.TIMEOUT, `the host did not answer the session request within ${seconds(o.answerTimeoutMs ?? 10_000)}s; the connection was closed and the command did not start`));
    }, o.answerTimeoutMs ?? 10_000);
    stuckTimer.unref();
    const onOpen = (err: Error | undefined, ch: ClientChannel) => {
      answered = true;
      clearTimeout(stuckTimer);
      if (gaveUp) {
        if (!err) {
          // Started after its call was answered: killed at once, nothing is read.
          ch.on('error', () => undefined);
          signalChannel(ch, 'KILL');
          ch.close();
        }
        return;
      }
      clearTimeout(waitTimer);
      o.signal?.removeEventListener('abort', onWaitAbort);
      if (err) {
        // The host's description stays in Warden's log: it is the host's text, not Warden's (host-text.ts).
        o.log?.('warn', 'ssh host refused a session', { description: hostDescription(err) });
        const reason = (err as Error & { reason?: unknown }).reason;
        return reject(typeof reason === 'number' ? new SessionRefused(sessionRefusal(err), reason) : new WardenError(ErrorCode.BACKEND, sessionRefusal(err)));
      }
      o.onSession?.();
      collect(ch, deadline, secs, o, client, started, resolve, reject);
    };
    try {
      client.exec(command, onOpen);
    } catch {
      // ssh2 throws when the socket is no longer writable (the host just went away).
      answered = true;
      clearTimeout(stuckTimer);
      giveUp(new WardenError(ErrorCode.BACKEND, 'the connection to the host was lost before the command started; nothing ran'));
    }
  });
}

/** Collect one running command's output until it ends, is killed, or the connection drops. */
function collect(
  ch: ClientChannel,
  deadline: number,
  secs: number,
  o: ExecOptions,
  client: Client,
  started: number,
  resolve: (r: ExecResult) => void,
  reject: (e: WardenError) => void,
): void {
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

  let channelClosed = false;
  const kill = () => {
    signalChannel(ch, 'KILL');
    try {
      ch.close();
    } catch {
      /* already closed */
    }
    grace ??= setTimeout(() => {
      finish();
      // A host that keeps a killed channel open past the grace can go on streaming into it (and
      // holds a session Warden counts as free): the connection is closed, the next call opens another.
      if (!channelClosed) {
        o.log?.('warn', 'ssh host kept a killed channel open; closing the connection', { after_ms: o.killGraceMs ?? 2000 });
        client.destroy();
      }
    }, o.killGraceMs ?? 2000);
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
  }, Math.max(0, deadline - performance.now()));
  const onAbort = () => {
    why ??= 'cancel';
    kill();
  };
  const onLost = () => {
    if (!exited) why ??= 'lost';
  };
  if (o.signal?.aborted) onAbort();
  else o.signal?.addEventListener('abort', onAbort, { once: true });
  client.once('close', onLost);

  function finish(): void {
    if (done) return;
    done = true;
    clearTimeout(timer);
    if (grace) clearTimeout(grace);
    o.signal?.removeEventListener('abort', onAbort);
    client.removeListener('close', onLost);
    const durationMs = Math.round((performance.now() - started) * 1000) / 1000;
    if (why === 'timeout') return reject(new WardenError(ErrorCode.TIMEOUT, `the command ran longer than ${secs}s and was killed on the host`));
    if (why === 'cancel') return reject(cancelledError('the command was killed on the host'));
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
    exitSignal = signalName(sig);
  });
  ch.on('error', () => undefined);
  ch.on('close', () => {
    channelClosed = true;
    // A closed connection closes its channels first; let the client 'close' land before judging.
    setImmediate(finish);
  });
  ch.end();
}
