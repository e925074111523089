/**
 * pods/exec over SPDY/3.1 (what kubectl before 1.29 speaks). Not implemented yet: the server
 * answers the upgrade with a 400 Status that says so, so an old kubectl fails loudly instead
 * of hanging. Needs SPDY/3.1 framing and the SPDY/3 zlib header dictionary (see the report).
 */
import type { Duplex } from 'node:stream';
import type { RunningExec } from './exec-runner.js';

/** Refuse the SPDY upgrade with a clear Status. */
export function serveExecSpdy(socket: Duplex, _head: Buffer, protocol: string, _start: () => RunningExec): void {
  const body = JSON.stringify({ kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', reason: 'BadRequest', code: 400, message: `this test API server does not speak SPDY/3.1 exec (${protocol}); use kubectl >= 1.30 (WebSocket exec)` });
  socket.end(`HTTP/1.1 400 Bad Request\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`);
}
