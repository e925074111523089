/**
 * One reused SSH connection per configured host: server-held credentials resolved from
 * secret references, the pinned host key checked before authentication, keepalive, a cap on
 * concurrent sessions with a share per principal (session-slots.ts), and a fresh connection
 * after the host went away. A new connection is used only once a probe showed that the host's
 * login shell reads the canonical quoting as written and is bash or dash (shell-probe.ts). A call's deadline and cancel cover its whole life: the wait for a
 * session slot, the connection, the command.
 */
import type { Client, ConnectConfig } from 'ssh2';
import { ErrorCode, WardenError, type ExecContext, type SecretResolver } from '../../src/tool-api.js';
import { sessionsPerPrincipal, type SshConnection } from './config.js';
import { deadlineIn, within, type CallDeadline } from './call-deadline.js';
import { execOnClient, SessionRefused, type ExecOptions, type ExecResult } from './exec.js';
import { compilePin, fingerprint, hostKeyAlgorithms, type HostKeyPin } from './host-key.js';
import { disconnectReason, hostDescription, ssh2OwnMessage } from './host-text.js';
import { privateKeyError } from './key-error.js';
import { SessionSlots } from './session-slots.js';
import { checkLoginShell } from './shell-probe.js';

/**
 * Channel-open failure reasons a host may give at its session limit: OpenSSH (9.2) says "connect
 * failed" (2), other servers "administratively prohibited" (1) or "resource shortage" (4).
 */
const AT_LIMIT_REASONS = new Set([1, 2, 4]);

/**
 * Pauses before asking again when a refusal cannot be the host's limit (ms): fewer sessions open
 * than it held at once before, or none. sshd frees an ended session only after it read Warden's
 * channel close, and the next request can arrive in the same read.
 */
const RACE_RETRIES = [20, 50, 100, 200];

/** How long after a session ended the host may still count it (ms). */
const RECENT_END_MS = 100;

/** Options of one run: the command's limits, and whose share of the host's sessions it takes. */
export interface RunOptions extends ExecOptions {
  /**
   * The calling principal's key (tool-api principalKey). Calls that name none (tests, the bench)
   * count as one principal together.
   */
  principal?: string;
}

/** The SSH side of one connection entry. */
export class SshConnector {
  private entry: { client: Promise<Client>; conn: Client | null } | null = null;
  private readonly pin: HostKeyPin;
  private readonly slots: SessionSlots;
  /**
   * Sessions of each connection the host holds open now, the most it held at once (a proven
   * lower bound of its limit) and when one last ended (the probe's, first), to learn a host
   * limit below max_sessions.
   */
  private readonly hostSessions = new WeakMap<Client, { open: number; peak: number; lastEnd: number }>();
  private closed = false;

  constructor(
    readonly conn: SshConnection,
    private readonly secrets: SecretResolver,
    private readonly log: ExecContext['log'] = () => undefined,
  ) {
    this.pin = compilePin(conn.host_key);
    this.slots = new SessionSlots(conn.max_sessions, sessionsPerPrincipal(conn));
  }

  private where(): string {
    return `${this.conn.user}@${this.conn.host}:${this.conn.port} (connection ${this.conn.name})`;
  }

  private async connectConfig(onKey: (fp: string) => boolean): Promise<ConnectConfig> {
    const c = this.conn;
    const cfg: ConnectConfig = {
      host: c.host,
      port: c.port,
      username: c.user,
      readyTimeout: c.connect_timeout,
      keepaliveInterval: c.keepalive_interval,
      keepaliveCountMax: 3,
      tryKeyboard: false,
      hostVerifier: (key: Buffer) => onKey(fingerprint(key)),
    };
    cfg.algorithms = { serverHostKey: hostKeyAlgorithms(this.pin.keyType) as NonNullable<ConnectConfig['algorithms']>['serverHostKey'] };
    if (c.private_key !== undefined) {
      cfg.privateKey = await this.secrets.resolve(c.private_key);
      if (c.passphrase !== undefined) cfg.passphrase = await this.secrets.resolve(c.passphrase);
    } else if (c.password !== undefined) {
      cfg.password = await this.secrets.resolve(c.password);
    }
    return cfg;
  }

  private async open(onClose: () => void): Promise<Client> {
    // ssh2 loads on the first connection, not with the family: a server without an ssh connection
    // (or before its first call) does not pay its load (about 30 ms of a stdio server's start).
    const { Client: SshClient } = await import('ssh2');
    return new Promise<Client>((resolve, reject) => {
      let presented: string | null = null;
      const client = new SshClient();
      client.setMaxListeners(0);
      let ready = false;
      // Small request/response packets: without TCP_NODELAY each call can stall on delayed ACKs.
      client.on('connect', () => client.setNoDelay(true));
      client.on('ready', () => {
        ready = true;
        // Only a host whose shell reads the canonical quoting as written, and is one Warden
        // parses for, gets a command; asked again on every new connection (after a reconnect too).
        checkLoginShell(client, this.where(), this.conn.connect_timeout, this.log, { allowUnknown: this.conn.unknown_login_shell === 'allow' }).then(
          () => resolve(client),
          (e: unknown) => {
            client.end();
            reject(e);
          },
        );
      });
      client.on('error', (e: Error & { level?: string; code?: string | number }) => {
        if (ready) {
          this.log('warn', 'ssh connection error', { connection: this.conn.name, message: hostDescription(e) });
          return;
        }
        reject(this.connectError(e, presented));
      });
      client.on('close', () => {
        if (!ready) reject(new WardenError(ErrorCode.BACKEND, `the host ${this.where()} closed the connection during the handshake`));
        onClose();
      });
      this.connectConfig((fp) => {
        presented = fp;
        return fp === this.pin.fingerprint;
      })
        .then((cfg) => {
          try {
            client.connect(cfg);
          } catch (e) {
            // ssh2 throws here only when it cannot use the private key; its message can quote the key's bytes.
            reject(privateKeyError(e, this.conn.name));
          }
        })
        .catch(reject);
    });
  }

  /** Map a pre-ready failure to a clear coded error (never with a credential in it). */
  private connectError(e: Error & { level?: string; code?: string | number }, presented: string | null): WardenError {
    if (presented !== null && presented !== this.pin.fingerprint) {
      return new WardenError(
        ErrorCode.BACKEND,
        `host key mismatch for ${this.where()}: expected ${this.pin.fingerprint}, the host presented ${presented}; refusing to connect`,
      );
    }
    if (e.level === 'client-timeout') return new WardenError(ErrorCode.TIMEOUT, `no SSH handshake with ${this.where()} within ${this.conn.connect_timeout / 1000}s`);
    if (e.level === 'client-authentication') return new WardenError(ErrorCode.BACKEND, `the host ${this.where()} refused the configured credential`);
    if (e.code === 'ECONNREFUSED') return new WardenError(ErrorCode.BACKEND, `the host ${this.where()} is unreachable: connection refused`);
    if (e.code === 'ENOTFOUND' || e.code === 'EAI_AGAIN') return new WardenError(ErrorCode.BACKEND, `the host ${this.where()} cannot be resolved`);
    if (e.code === 'EHOSTUNREACH' || e.code === 'ENETUNREACH' || e.code === 'ETIMEDOUT') return new WardenError(ErrorCode.BACKEND, `the host ${this.where()} is unreachable (${e.code})`);
    // The peer's own words (a disconnect description, possibly before its key was checked) go to
    // Warden's log only: the agent gets the reason code's name (host-text.ts).
    const reason = disconnectReason(e);
    if (reason !== null) {
      this.log('warn', 'ssh host ended the connection during the handshake', { connection: this.conn.name, reason, description: hostDescription(e) });
      return new WardenError(ErrorCode.BACKEND, `the host ${this.where()} ended the connection during the handshake (${reason})`);
    }
    if (typeof e.code === 'string' && /^E[A-Z]+$/.test(e.code)) return new WardenError(ErrorCode.BACKEND, `cannot connect to ${this.where()} (${e.code})`);
    const own = ssh2OwnMessage(e);
    if (own === null) this.log('warn', 'ssh handshake failed', { connection: this.conn.name, ssh_level: e.level ?? null, message: hostDescription(e) });
    return new WardenError(ErrorCode.BACKEND, `cannot connect to ${this.where()}: ${own ?? `the SSH handshake failed (${e.level === 'protocol' ? 'protocol' : 'handshake'} error; details in Warden's log)`}`);
  }

  private hostHeld(client: Client): { open: number; peak: number; lastEnd: number } {
    let held = this.hostSessions.get(client);
    if (!held) this.hostSessions.set(client, (held = { open: 0, peak: 0, lastEnd: performance.now() }));
    return held;
  }

  /** The shared connection, opened on first use and again after it dropped. */
  private get(): Promise<Client> {
    if (this.closed) return Promise.reject(new WardenError(ErrorCode.BACKEND, 'the ssh connector is closed'));
    if (!this.entry) {
      const entry: { client: Promise<Client>; conn: Client | null } = { client: Promise.resolve(null as unknown as Client), conn: null };
      const drop = () => {
        if (this.entry === entry) this.entry = null;
      };
      // A new connection may meet another host limit (sshd restarted with another MaxSessions).
      this.slots.setLimit(this.conn.max_sessions);
      entry.client = this.open(drop);
      entry.client.then((c) => {
        entry.conn = c;
        this.hostHeld(c); // the probe's session just ended
      }, drop);
      this.entry = entry;
    }
    return this.entry.client;
  }

  /**
   * Run one already-canonical command line on the host, all of it within the call's deadline.
   * A host may allow fewer sessions per connection than max_sessions (sshd MaxSessions, default
   * 10): sshd refuses the channel over its limit. Such a refusal, while other sessions of this
   * connection are open, as many as the host ever held at once and none just ended, teaches
   * the connector the host's limit (the sessions open then); the call goes back to the queue
   * for a slot under it and runs when one of those sessions ends, still within its deadline.
   * Otherwise it asks again shortly (sshd frees an ended session only after it read the close)
   * and takes the sessions open as the limit when that keeps failing: such a limit can be lower
   * than the host's; while calls queue at it, one more session is tried now and then (a refusal
   * of the try puts the limit back at once, quietly: session-slots.ts), and none fails.
   * Why wait on the same connection rather than open another: the host's limit is its
   * operator's choice per connection, a second login costs a handshake and the probe, and counts
   * against sshd MaxStartups; the queue keeps the principals' shares fair.
   * A refusal with none of this connection's sessions open, asked again a few times, is the
   * host's answer, not its limit, and fails the call.
   */
  async run(command: string, { principal = '', ...o }: RunOptions): Promise<ExecResult> {
    const d = deadlineIn(o.timeoutMs, o.signal);
    for (;;) {
      const release = await this.slots.acquire(d, principal, (overShare) =>
        overShare
          ? `free session on ${this.where()} within this principal's share (max_sessions_per_principal ${Math.min(sessionsPerPrincipal(this.conn), this.slots.limit)} busy with its own calls)`
          : this.slots.limit < this.conn.max_sessions
            ? `free session on ${this.where()} (the host allows ${this.slots.limit} at once, below max_sessions ${this.conn.max_sessions}; all busy)`
            : `free session on ${this.where()} (max_sessions ${this.conn.max_sessions} busy)`,
      );
      try {
        const client = await within(this.get(), d, `SSH connection to ${this.where()}`);
        // The slot is kept while asking again shortly: a call let go of it would come back only
        // when another session ended, which is just when the host may not have freed that one.
        for (let races = 0; ; races++) {
          try {
            return await this.execCounted(client, command, o, d);
          } catch (e) {
            if (!(e instanceof SessionRefused) || !AT_LIMIT_REASONS.has(e.openFailure)) throw e;
            const held = this.hostHeld(client);
            // As many open as the host ever held at once on this connection, none just ended:
            // that is its limit. Otherwise a session that just ended may not be freed on the
            // host yet: ask again shortly, and take the sessions open as the limit only when
            // that keeps failing.
            // During a try of one more session (session-slots.ts), a refusal with the old limit's
            // sessions open is the try's, unless one just ended (then it may be a race too).
            const settled = performance.now() - held.lastEnd >= RECENT_END_MS;
            const atLimit = held.open > 0 && settled && (held.open >= held.peak || this.slots.refusesTry(held.open));
            if (!atLimit && races < RACE_RETRIES.length) {
              await within(new Promise((r) => setTimeout(r, RACE_RETRIES[races])), d, `free session on ${this.where()}`);
              continue;
            }
            if (held.open === 0) throw e;
            // A refused try of one more session (session-slots.ts) goes back quietly.
            if (this.slots.refusedAt(held.open) === 'lowered') {
              this.log('warn', 'ssh host allows fewer sessions per connection than max_sessions; calls over it wait for a free one', {
                connection: this.conn.name,
                max_sessions: this.conn.max_sessions,
                host_sessions: held.open,
              });
            }
            break; // back to the queue, for a slot under the host's limit
          }
        }
      } finally {
        release();
      }
    }
  }

  /** One exec on `client`, counted among the sessions the host holds while its channel is open. */
  private async execCounted(client: Client, command: string, o: ExecOptions, d: CallDeadline): Promise<ExecResult> {
    let opened = false;
    const held = this.hostHeld(client);
    try {
      return await execOnClient(client, command, {
        answerTimeoutMs: this.conn.connect_timeout,
        log: this.log,
        ...o,
        deadline: d.at,
        onSession: () => {
          opened = true;
          held.open++;
          held.peak = Math.max(held.peak, held.open);
          this.slots.accepted(held.open);
        },
      });
    } finally {
      if (opened) {
        held.open--;
        held.lastEnd = performance.now();
      }
    }
  }

  /** True while a connection is open (for tests and the bench: reuse is observable). */
  get connected(): boolean {
    return this.entry?.conn != null;
  }

  async close(): Promise<void> {
    this.closed = true;
    const p = this.entry?.client;
    this.entry = null;
    const c = await p?.catch(() => null);
    c?.end();
  }
}
