/**
 * Stopping a statement whose client cancelled the call (notifications/cancelled aborts the call's
 * signal) while PostgreSQL runs it. PostgreSQL is sent the protocol's CancelRequest for that
 * client's backend: a separate socket carrying the backend's process id and secret key, which
 * needs no login and no connection slot, and which the server applies to that backend only while
 * it still is that session (the key is per session: a late request cannot reach another one).
 * pg's Client has no public cancel (its internal one can silently drop a query's callback), so
 * the 16-byte request is written here.
 *
 * The request has no answer: the statement then gets a bounded grace period to stop. Whatever
 * happens, the caller never sends COMMIT after a cancel, and the client is destroyed, never
 * pooled again (connector.ts), so a statement the request did not reach still cannot commit and
 * ends at statement_timeout on a session nobody reuses.
 *
 * On a connection with TLS (tls.ts) the request goes as libpq sends it: SSLRequest first, then,
 * on the server's 'S', the TLS handshake with the connection's own options (same CA, host name
 * check, client certificate) and the request inside it. A server that answers 'N', or a
 * handshake that fails, gets nothing: the backend's key never travels in clear where the
 * session is encrypted, and the statement ends at statement_timeout.
 */
import { connect, type Socket } from 'node:net';
import { connect as tlsConnect, type ConnectionOptions } from 'node:tls';
import type pg from 'pg';
import { ErrorCode, NOTHING_SENT, WardenError } from '../../src/tool-api.js';
import type { TlsPlan } from './tls.js';

/** How long a cancelled statement may take to stop before its client is destroyed anyway. */
const CANCEL_GRACE_MS = 2_000;
/** How long the CancelRequest's socket may take to connect and be closed by the server. */
const CANCEL_SEND_MS = 2_000;
const CANCEL_REQUEST_CODE = 80877102;
const SSL_REQUEST_CODE = 80877103;

/** The parts of pg's Client the request needs (set by pg from the connection string and BackendKeyData). */
interface BackendKey {
  host?: string;
  port?: number;
  processID?: number | null;
  secretKey?: number | null;
}

/**
 * Why a cancelled call stopped: the client stopped waiting, so the call did not take effect.
 * `nothingSent`: its statement never reached PostgreSQL (NOTHING_SENT: its approvals go back).
 */
export function cancelledError(when: string, nothingSent = false): WardenError {
  return new WardenError(ErrorCode.CANCELLED, `the call was cancelled by the client ${when}`, nothingSent ? { [NOTHING_SENT]: true } : {});
}

/** `e` as a cancel that sent nothing of the call (NOTHING_SENT), when it is a cancel; why: a wait for a session knows no statement. */
export function unsentCancel(e: unknown): unknown {
  return e instanceof WardenError && e.code === ErrorCode.CANCELLED ? new WardenError(e.code, e.message, { ...e.details, [NOTHING_SENT]: true }) : e;
}

/**
 * Wait for a statement in flight on `client`, unless `signal` aborts first: then PostgreSQL is
 * asked to cancel it, the statement gets CANCEL_GRACE_MS to stop, and WARDEN_CANCELLED is thrown
 * whatever it did meanwhile (its result, if any, is dropped). A result that arrives before the
 * abort is returned as usual.
 */
export async function unlessCancelled<T>(done: Promise<T>, client: pg.ClientBase, signal: AbortSignal | undefined, what: string, tls?: TlsPlan, nothingSent = false): Promise<T> {
  if (!signal) return done;
  done.catch(() => undefined); // the cancel path stops listening; a late rejection is expected
  let onAbort!: () => void;
  const aborted = new Promise<'aborted'>((resolve) => {
    onAbort = () => resolve('aborted');
    if (signal.aborted) onAbort();
    else signal.addEventListener('abort', onAbort, { once: true });
  });
  try {
    const first = await Promise.race([done, aborted]);
    if (first !== 'aborted') return first as T;
  } finally {
    signal.removeEventListener('abort', onAbort);
  }
  await sendCancelRequest(client as unknown as BackendKey, tls);
  await Promise.race([done.then(noop, noop), sleep(CANCEL_GRACE_MS)]);
  throw cancelledError(what, nothingSent);
}

/**
 * Send PostgreSQL a CancelRequest for the client's backend and wait until the server closes the
 * socket (it has read the request) or CANCEL_SEND_MS passes; over TLS when `tls` says the
 * connection uses it. Never throws: a request that cannot be sent leaves the statement to
 * statement_timeout.
 */
export function sendCancelRequest(key: BackendKey, tls?: TlsPlan): Promise<void> {
  const { host, port, processID, secretKey } = key;
  if (typeof processID !== 'number' || typeof secretKey !== 'number' || !port) return Promise.resolve();
  const packet = Buffer.alloc(16);
  packet.writeInt32BE(16, 0);
  packet.writeInt32BE(CANCEL_REQUEST_CODE, 4);
  packet.writeInt32BE(processID, 8);
  packet.writeInt32BE(secretKey, 12);
  const secure = tls && tls.mode !== 'disable' && tls.ssl ? tls.ssl : null;
  return new Promise<void>((resolve) => {
    const sockets: Socket[] = [];
    const finish = () => {
      clearTimeout(timer);
      for (const s of sockets) s.destroy();
      resolve();
    };
    const timer = setTimeout(finish, CANCEL_SEND_MS);
    try {
      // pg reaches a host starting with '/' through the unix socket in that directory.
      const socket = host?.startsWith('/') ? connect(`${host}/.s.PGSQL.${port}`) : connect(port, host || 'localhost');
      sockets.push(socket);
      socket.setNoDelay(true);
      socket.once('error', finish);
      socket.once('close', finish);
      if (!secure) {
        socket.once('connect', () => socket.write(packet));
        socket.on('data', noop);
        return;
      }
      const request = Buffer.alloc(8);
      request.writeInt32BE(8, 0);
      request.writeInt32BE(SSL_REQUEST_CODE, 4);
      socket.once('connect', () => socket.write(request));
      socket.once('data', (answer: Buffer) => {
        // Exactly 'S', nothing after it (bytes before the handshake would be read as if encrypted).
        if (answer.length !== 1 || answer[0] !== 0x53) return finish();
        try {
          const options: ConnectionOptions = { ...secure, socket, host: host || 'localhost' };
          if (secure.servername === undefined && host && !/^[0-9.]+$|:/.test(host)) options.servername = host;
          const encrypted = tlsConnect(options);
          sockets.push(encrypted);
          encrypted.once('secureConnect', () => encrypted.write(packet));
          encrypted.once('error', finish);
          encrypted.once('close', finish);
          encrypted.on('data', noop);
        } catch {
          finish();
        }
      });
    } catch {
      finish();
    }
  });
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms).unref());
}

function noop(): void {}
