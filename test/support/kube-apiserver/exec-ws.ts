/**
 * pods/exec over WebSocket with the `v5.channel.k8s.io` / `v4.channel.k8s.io` subprotocols:
 * binary messages prefixed by a channel byte (1 stdout, 2 stderr, 3 status JSON); v5 adds
 * channel 255 (close a stream), which this server accepts and ignores (stdin is not opened).
 */
import { createRequire } from 'node:module';
import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { exitStatus, type RunningExec } from './exec-runner.js';

interface WsConn {
  readonly protocol: string;
  readonly readyState: number;
  send(data: Buffer, opts?: { binary: boolean }, cb?: (e?: Error) => void): void;
  close(code?: number): void;
  terminate(): void;
  on(ev: 'close', fn: () => void): void;
  on(ev: 'message', fn: (d: Buffer) => void): void;
  on(ev: 'error', fn: (e: Error) => void): void;
}
interface WsServer {
  handleUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer, cb: (ws: WsConn) => void): void;
  close(): void;
}
type WsServerCtor = new (o: Record<string, unknown>) => WsServer;
const { WebSocketServer } = createRequire(import.meta.url)('ws') as { WebSocketServer: WsServerCtor };

/** A WebSocket endpoint that negotiates one of `supported` (server preference order). */
export function createExecWsServer(supported: () => string[]): WsServer {
  return new WebSocketServer({
    noServer: true,
    perMessageDeflate: false,
    handleProtocols: (offered: Set<string>) => supported().find((p) => offered.has(p)) ?? false,
  });
}

function frame(channel: number, data: Buffer): Buffer {
  return Buffer.concat([Buffer.from([channel]), data]);
}

/** Wire a running exec to an upgraded WebSocket. */
export function serveExecWs(ws: WsConn, run: RunningExec, streams: { stdout: boolean; stderr: boolean }): void {
  const send = (b: Buffer) => {
    if (ws.readyState === 1) ws.send(b, { binary: true });
  };
  if (streams.stdout) run.onStdout((b) => send(frame(1, b)));
  if (streams.stderr) run.onStderr((b) => send(frame(2, b)));
  ws.on('message', () => undefined);
  ws.on('error', () => run.kill());
  ws.on('close', () => run.kill());
  void run.done.then((code) => {
    if (ws.readyState !== 1) return;
    ws.send(frame(3, Buffer.from(JSON.stringify(exitStatus(code)))), { binary: true }, () => ws.close(1000));
  });
}
