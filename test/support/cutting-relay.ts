/**
 * A TCP relay to a local port that destroys both ends of a connection once its client sends a
 * marker (while `armed`): a network that fails after the session opened, for the tests of what
 * a broken session leaves (a coded error, and the process still serving). For encrypted traffic
 * (SSH, TLS), where no marker can be seen, `cutNow()` cuts every live connection at once, with
 * a TCP reset when asked (a middlebox or a peer that died, rather than an orderly close).
 */
import { connect, createServer, type Server, type Socket } from 'node:net';

export interface CuttingRelay {
  server: Server;
  port: number;
  /** Connections cut so far. */
  cuts: number;
  /** Cut only while true (default true). */
  armed: boolean;
  /** Connections open through the relay now. */
  live(): number;
  /** Cut every live connection now (`reset`: with a TCP RST on both sides); how many were cut. */
  cutNow(o?: { reset?: boolean }): number;
  /** `url` with its port replaced by the relay's. */
  through(url: string): string;
  close(): void;
}

export async function cuttingRelay(target: number, marker = ''): Promise<CuttingRelay> {
  const sockets = new Set<Socket>();
  const pairs = new Set<[Socket, Socket]>();
  const server = createServer((client: Socket) => {
    const up = connect(target, '127.0.0.1');
    sockets.add(client).add(up);
    const pair: [Socket, Socket] = [client, up];
    pairs.add(pair);
    client.once('close', () => pairs.delete(pair));
    client.on('data', (d: Buffer) => {
      if (relay.armed && marker !== '' && d.includes(marker)) {
        relay.cuts++;
        client.destroy();
        up.destroy();
        return;
      }
      up.write(d);
    });
    up.pipe(client);
    up.on('error', () => client.destroy());
    client.on('error', () => up.destroy());
    client.on('close', () => up.destroy());
    up.on('close', () => client.destroy());
  });
  await new Promise<void>((res) => server.listen(0, '127.0.0.1', res));
  const relay: CuttingRelay = {
    server,
    port: (server.address() as { port: number }).port,
    cuts: 0,
    armed: true,
    live: () => pairs.size,
    cutNow(o = {}) {
      const now = [...pairs];
      for (const pair of now) {
        pairs.delete(pair);
        for (const s of pair) {
          if (o.reset) s.resetAndDestroy();
          else s.destroy();
        }
      }
      relay.cuts += now.length;
      return now.length;
    },
    through(url) {
      const u = new URL(url);
      u.port = String(relay.port);
      return u.toString();
    },
    close() {
      for (const s of sockets) s.destroy();
      server.close();
    },
  };
  return relay;
}
