// A scripted SSH server in this process (ssh2's Server), for the attacks that need the host
// itself to misbehave: a real OpenSSH sshd cannot be made to sit on a session request, lie about
// an exit signal or ignore a channel close. Everything else runs against test/support/sshd.ts.
//
// It listens on a loopback port with a generated host key, accepts any credential except
// `none` (so the client must send the one it holds; `auth` records what arrived), records every
// channel and session request the client makes (`requests`), answers Warden's login-shell probe
// as a POSIX shell would, and hands every other exec to the test's `onExec`. `onSession` can
// withhold the reply to a channel open. ssh2's server answers keepalives itself.

import { createRequire } from 'node:module';
import type { AddressInfo } from 'node:net';
import ssh2 from 'ssh2';
import type { Connection, ServerChannel, Session } from 'ssh2';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createSecretResolver } from '../../src/config/secrets.js';
import { sshConnectionSchema, type SshConnection } from '../../tools/ssh/config.js';
import { SshConnector } from '../../tools/ssh/connector.js';
import { PROBE_EXPECTED, PROBE_LINE } from '../../tools/ssh/shell-probe.js';

const { Server, utils } = ssh2;

/** What a test scripts. */
export interface HostileScript {
  /** Host key (OpenSSH private key text); a fresh ed25519 key when absent. */
  hostKey?: string;
  /** Host key signature algorithms the server offers (ssh2's defaults when absent). */
  hostKeyAlgorithms?: string[];
  /** Listen on this port (to stand in for another host at the same address). */
  port?: number;
  /** Called on a session channel open; default: accept. Do nothing to never answer. */
  onSession?: (accept: () => Session, reject: () => void) => void;
  /** Called on an exec request; default: accept, exit 0, close. Do nothing to never answer. */
  onExec?: (accept: () => ServerChannel, reject: () => void, command: string) => void;
  /**
   * Answer Warden's login-shell probe as a POSIX shell would, without calling onExec (default
   * true). false hands the probe to onExec like any command.
   */
  answerProbe?: boolean;
  /** Called with every client connection as it arrives (to play the host at the protocol level). */
  onClient?: (client: Connection) => void;
}

/** A running scripted host. */
export interface HostileSshd {
  port: number;
  /** Public key line to pin ("ssh-ed25519 AAAA..."). */
  hostKeyLine: string;
  /** The host key (OpenSSH private key text), to start another server with the same key. */
  hostKey: string;
  /** "method:secret" for every authentication attempt that carried a credential. */
  auth: string[];
  /**
   * Requests the client made: "channel:TYPE", "session:TYPE" ("session:signal:NAME"). ssh2's
   * server answers keepalives itself and routes a request on a running exec to the channel, so
   * neither shows here.
   */
  requests: string[];
  /** Exec commands received. */
  execs: string[];
  /** End every client connection (the listener stays). */
  dropClients(): void;
  /** Present another host key from now on, and re-key every live connection with it. */
  swapHostKey(privateKey: string): void;
  stop(): Promise<void>;
}

/** A fresh ed25519 key pair: OpenSSH private key text and public key line. */
export function newKeyPair(): { private: string; public: string } {
  // ssh2's generator now and then (about 1 in 500) writes a key its own parser calls malformed.
  for (;;) {
    const k = utils.generateKeyPairSync('ed25519');
    if (!(utils.parseKey(k.private) instanceof Error)) return { private: k.private, public: k.public.trim() };
  }
}

/**
 * ssh2's own table of signal names, which its server refuses to step outside. A test adds a
 * name to it to play a host that sends any exit-signal name it likes.
 */
export function ssh2SignalTable(): Record<string, number> {
  const require = createRequire(import.meta.url);
  const path = require.resolve('ssh2/lib/protocol/constants.js');
  return (require(path) as { SIGNALS: Record<string, number> }).SIGNALS;
}

/** Start a scripted host on a loopback port. */
export async function startHostileSshd(script: HostileScript = {}): Promise<HostileSshd> {
  const key = script.hostKey ?? newKeyPair().private;
  const pub = utils.parseKey(key);
  if (pub instanceof Error) throw pub;
  const parsed = Array.isArray(pub) ? pub[0]! : pub;
  const hostKeyLine = `${parsed.type} ${parsed.getPublicSSH().toString('base64')}`;
  const auth: string[] = [];
  const requests: string[] = [];
  const execs: string[] = [];
  const clients = new Set<Connection>();

  const algorithms = script.hostKeyAlgorithms ? { algorithms: { serverHostKey: script.hostKeyAlgorithms as never } } : {};
  const server = new Server({ hostKeys: [key], ...algorithms }, (client) => {
    clients.add(client);
    client.on('close', () => clients.delete(client));
    script.onClient?.(client);
    client.on('error', () => undefined);
    client.on('authentication', (ctx) => {
      if (ctx.method === 'none') return ctx.reject(['password', 'publickey']);
      if (ctx.method === 'password') auth.push(`password:${ctx.password}`);
      else if (ctx.method === 'publickey') auth.push(`publickey:${ctx.key.algo}`);
      else auth.push(ctx.method);
      ctx.accept();
    });
    client.on('tcpip', (_a, reject) => {
      requests.push('channel:direct-tcpip');
      reject();
    });
    client.on('session', (accept, reject) => {
      requests.push('channel:session');
      const onSession =
        script.onSession ??
        ((acc: () => Session) => {
          acc();
        });
      const wrapped = () => {
        const session = accept();
        for (const type of ['env', 'pty', 'x11', 'auth-agent', 'shell', 'subsystem', 'signal'] as const) {
          (session as unknown as NodeJS.EventEmitter).on(type, (_acc: unknown, rej?: () => void, info?: { name?: string }) => {
            requests.push(type === 'signal' ? `session:signal:${info?.name ?? '?'}` : `session:${type}`);
            rej?.();
          });
        }
        session.on('exec', (acc, rej, info) => {
          requests.push('session:exec');
          execs.push(info.command);
          if (info.command === PROBE_LINE && script.answerProbe !== false) {
            const ch = acc();
            ch.write(PROBE_EXPECTED);
            ch.exit(0);
            ch.end();
            return;
          }
          const onExec =
            script.onExec ??
            ((a: () => ServerChannel) => {
              const ch = a();
              ch.exit(0);
              ch.end();
            });
          onExec(acc, rej, info.command);
        });
        return session;
      };
      onSession(wrapped, reject);
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(script.port ?? 0, '127.0.0.1', () => resolve());
  });
  const port = (server.address() as AddressInfo).port;
  const dropClients = () => {
    for (const c of clients) c.end();
  };
  const swapHostKey = (privateKey: string) => {
    const parsedNew = utils.parseKey(privateKey);
    if (parsedNew instanceof Error) throw parsedNew;
    const k = Array.isArray(parsedNew) ? parsedNew[0]! : parsedNew;
    for (const c of clients) {
      // ssh2 keeps one table of host keys, shared by the server's connections.
      const table = (c as unknown as { _protocol: { _hostKeys: Record<string, unknown> } })._protocol._hostKeys;
      table[k.type] = k;
      c.rekey();
    }
  };
  return {
    port,
    hostKeyLine,
    hostKey: key,
    auth,
    requests,
    execs,
    dropClients,
    swapHostKey,
    async stop() {
      dropClients();
      await new Promise<void>((r) => server.close(() => r()));
    },
  };
}

/**
 * What a test against hostile hosts sets up alike: connections to them (password from a secret
 * env name, short timeouts), connectors and hosts that `close()` stops, and a folder for files.
 */
export interface HostileFixture {
  /** The folder the tests' files and secret references live in (set in `before`). */
  readonly work: string;
  connectionFor(host: { port: number; hostKeyLine: string }, over?: Record<string, unknown>): SshConnection;
  connector(host: { port: number; hostKeyLine: string }, over?: Record<string, unknown>): SshConnector;
  host(script?: HostileScript): Promise<HostileSshd>;
  /** Stop every connector and host, remove the folder. */
  close(): Promise<void>;
}

/** A fixture whose connections log in as `deploy` with `password`, read from env `envName`. */
export function hostileFixture(prefix: string, envName: string, password: string): HostileFixture {
  const work = mkdtempSync(join(tmpdir(), prefix));
  const connectors: SshConnector[] = [];
  const hosts: HostileSshd[] = [];
  const connectionFor = (host: { port: number; hostKeyLine: string }, over: Record<string, unknown> = {}): SshConnection => {
    const parsed = sshConnectionSchema.parse({
      host: '127.0.0.1',
      port: host.port,
      user: 'deploy',
      password: `env:${envName}`,
      host_key: host.hostKeyLine,
      connect_timeout: '3s',
      keepalive_interval: '200ms',
      ...over,
    });
    return { ...(parsed as object), name: 'hostile', type: 'ssh' } as SshConnection;
  };
  return {
    work,
    connectionFor,
    connector(host, over = {}) {
      const c = new SshConnector(connectionFor(host, over), createSecretResolver(work, { [envName]: password }));
      connectors.push(c);
      return c;
    },
    async host(script = {}) {
      const h = await startHostileSshd(script);
      hosts.push(h);
      return h;
    },
    async close() {
      await Promise.all(connectors.map((c) => c.close()));
      await Promise.all(hosts.map((h) => h.stop()));
      rmSync(work, { recursive: true, force: true });
    },
  };
}
