/**
 * Who serves a key source over plain http on this machine (key-source-url.ts allows one there).
 * Loopback has no on-path attacker, but any local user can listen on a loopback port that is
 * free: while the issuer's port is (the IdP restarting, or not up yet at boot), the agent's own
 * OS user, which the README's deployment puts on the same machine, could bind it, serve its own
 * discovery document and key set, and mint any identity. So a plain-http loopback key source is
 * read only from a socket that belongs to Warden's own user, root, or a uid listed in
 * identity.oidc.loopback_key_uids (an IdP sidecar in the same pod): on Linux the server side
 * of the very connection is looked up in /proc/net/tcp and tcp6 (its uid is its listener's owner)
 * before a byte is sent. Where that cannot be read, the fetch is refused (serve keys over https).
 */
import { readFile } from 'node:fs/promises';
import { request } from 'node:http';
import { connect, type Socket } from 'node:net';
import { endianness } from 'node:os';

/** The largest discovery document or key set read over loopback, bytes. */
const MAX_BODY = 1 << 20;

/** One end of a TCP connection. */
export interface Endpoint {
  address: string;
  port: number;
}

/** An IP address as one spelling: dotted IPv4 (an IPv4-mapped IPv6 address too), else URL's IPv6 form. */
function canonIp(ip: string): string {
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(ip);
  if (mapped) return mapped[1]!;
  if (!ip.includes(':')) return ip;
  try {
    return new URL(`http://[${ip}]`).hostname;
  } catch {
    return ip;
  }
}

/** A /proc/net/tcp address (`0100007F:1F90`: each 32-bit word in host byte order) as an Endpoint. */
function procEndpoint(field: string, endian: 'LE' | 'BE'): Endpoint | null {
  const [hex, portHex] = field.split(':');
  if (!hex || !portHex || !/^(?:[0-9A-F]{8}|[0-9A-F]{32})$/i.test(hex)) return null;
  const b = Buffer.from(hex, 'hex');
  if (endian === 'LE') for (let i = 0; i < b.length; i += 4) b.subarray(i, i + 4).reverse();
  const v4 = b.length === 4 ? b : b.subarray(0, 10).every((x) => x === 0) && b[10] === 0xff && b[11] === 0xff ? b.subarray(12) : null;
  const address = v4 ? [...v4].join('.') : canonIp([...Array(8).keys()].map((i) => b.readUInt16BE(i * 2).toString(16)).join(':'));
  return { address, port: parseInt(portHex, 16) };
}

/**
 * The uid owning the server side of the TCP connection between `server` and `client` (both ends,
 * address and port, as the client's socket sees them), read from /proc/net/tcp-format `tables`;
 * null when no such connection is listed. Why both addresses: ports alone can match another
 * user's connection on another address. Exported for tests (both uids, on any machine).
 */
export function peerUid(tables: string[], server: Endpoint, client: Endpoint, endian: 'LE' | 'BE' = endianness()): number | null {
  const same = (e: Endpoint | null, want: Endpoint) => e !== null && e.port === want.port && e.address === canonIp(want.address);
  for (const table of tables) {
    for (const line of table.split('\n').slice(1)) {
      const f = line.trim().split(/\s+/);
      // sl local_address rem_address st tx:rx tr:when retrnsmt uid ...; st 01 is ESTABLISHED.
      if (f.length > 7 && f[3] === '01' && same(procEndpoint(f[1]!, endian), server) && same(procEndpoint(f[2]!, endian), client)) return Number(f[7]);
    }
  }
  return null;
}

/** Whether `uid` may serve keys to this process: its own user, root, or one configured (identity.oidc.loopback_key_uids). */
export function trustedKeyServer(uid: number, ownUid: number | undefined, extra: readonly number[] = []): boolean {
  return uid === 0 || uid === ownUid || extra.includes(uid);
}

// Read without blocking the loop: on a busy host the tables list every connection (megabytes).
async function readTables(): Promise<string[]> {
  const out: string[] = [];
  for (const f of ['/proc/net/tcp', '/proc/net/tcp6']) {
    try {
      out.push(await readFile(f, 'utf8'));
    } catch {
      // tcp6 is absent without IPv6; both absent is decided below.
    }
  }
  return out;
}

/** Connect to host:port and check who serves it, a few times while the kernel lists the accepted socket. */
function connectOwned(host: string, port: number, signal: AbortSignal | null | undefined, extra: readonly number[]): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host, port });
    const fail = (e: Error) => {
      socket.destroy();
      reject(e);
    };
    if (signal?.aborted) return fail(new Error('the key source did not answer in time'));
    signal?.addEventListener('abort', () => fail(new Error('the key source did not answer in time')), { once: true });
    socket.once('error', fail);
    socket.once('connect', async () => {
      for (let attempt = 0; attempt < 5; attempt++) {
        const tables = await readTables();
        if (tables.length === 0) return fail(new Error(`cannot tell which user serves port ${port} on this machine (no /proc/net/tcp); serve the issuer's keys over https`));
        const uid = peerUid(tables, { address: socket.remoteAddress ?? '', port }, { address: socket.localAddress ?? '', port: socket.localPort ?? -1 });
        if (uid !== null) {
          if (trustedKeyServer(uid, process.getuid?.(), extra)) return resolve(socket);
          return fail(new Error(`port ${port} on this machine is served by another user (uid ${uid}), not Warden's own, root or one in identity.oidc.loopback_key_uids, so it could be anyone's keys; serve the issuer's keys over https or list that uid`));
        }
        await new Promise((r) => setTimeout(r, 10 * (attempt + 1)));
      }
      fail(new Error(`cannot tell which user serves port ${port} on this machine; serve the issuer's keys over https`));
    });
  });
}

/**
 * A GET of a plain-http loopback URL (fetch's shape, no redirects followed), from a server of
 * Warden's own user, root or one of `trustedUids` only (see above); throws otherwise, before sending the request.
 */
export async function loopbackOwnedFetch(url: string, init: RequestInit = {}, trustedUids: readonly number[] = []): Promise<Response> {
  const u = new URL(url);
  const host = u.hostname.replace(/^\[|\]$/g, '');
  const port = Number(u.port || 80);
  const socket = await connectOwned(host, port, init.signal, trustedUids);
  const headers = Object.fromEntries(new Headers(init.headers).entries());
  return new Promise((resolve, reject) => {
    const req = request({ host, port, path: `${u.pathname}${u.search}`, method: 'GET', headers, createConnection: () => socket }, (res) => {
      const chunks: Buffer[] = [];
      let size = 0;
      res.on('data', (c: Buffer) => {
        size += c.length;
        if (size > MAX_BODY) req.destroy(new Error(`the key source answered more than ${MAX_BODY} bytes`));
        else chunks.push(c);
      });
      res.once('end', () => {
        const h = new Headers();
        for (const [k, v] of Object.entries(res.headers)) if (typeof v === 'string') h.set(k, v);
        const status = res.statusCode ?? 502;
        resolve(new Response(status === 204 || status === 304 ? null : Buffer.concat(chunks), { status, headers: h }));
      });
      res.once('error', reject);
    });
    req.once('error', reject);
    init.signal?.addEventListener('abort', () => req.destroy(new Error('the key source did not answer in time')), { once: true });
    req.end();
  });
}
