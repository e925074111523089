/**
 * The stream-buffer bound alone (boundResponseBuffer) behind a plain node:http server that pushes
 * SSE notifications on a GET stream the way the MCP adapters do (write; on false, wait for
 * 'drain'): a raw client socket that never reads is closed once the response holds more than the
 * bound, the overflow is reported once, the pushes stop, and what was buffered never grew past the
 * bound by more than one event. A client that reads gets every event. Over the real listener:
 * test/e2e/http-stream-buffer.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type ServerResponse } from 'node:http';
import { connect, type AddressInfo } from 'node:net';
import { boundResponseBuffer, streamBufferBound, type StreamClose } from '../../src/server/http-stream-buffer.js';
import { until } from '../support/http-warden.js';

const BOUND = 64 * 1024;
const EVENT = `data: ${JSON.stringify({ jsonrpc: '2.0', method: 'notifications/message', params: { data: 'x'.repeat(16 * 1024) } })}\n\n`;

/** Resolve on the response's next 'drain' or its 'close', whichever comes first, leaving no listener behind. */
function drainOrClose(res: ServerResponse): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      res.off('drain', done);
      res.off('close', done);
      resolve();
    };
    res.on('drain', done);
    res.on('close', done);
  });
}

test('a GET stream whose client never reads is closed at the bound; a reading client gets every event', async (t) => {
  const overflows: number[] = [];
  let maxHeld = 0;
  let closed = 0;
  let pushed = 0;
  const server = createServer((req, res: ServerResponse) => {
    boundResponseBuffer(res, BOUND, 60_000, (why) => void overflows.push(why.buffered));
    res.once('close', () => closed++);
    res.writeHead(200, { 'content-type': 'text/event-stream' });
    const limit = Number(req.headers['x-events'] ?? Infinity);
    // The adapters' loop: write, and on false wait for 'drain' (or the end of the response).
    void (async () => {
      for (let i = 0; i < limit && !res.destroyed; i++) {
        pushed++;
        const ok = res.write(EVENT);
        maxHeld = Math.max(maxHeld, res.writableLength);
        if (!ok) await drainOrClose(res);
        // An event a millisecond: a burst larger than the bound is not what this test is about.
        else await new Promise((r) => setTimeout(r, 1));
      }
      if (!res.destroyed) res.end();
    })();
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  t.after(() => {
    server.closeAllConnections();
    server.close();
  });
  const port = (server.address() as AddressInfo).port;
  const get = (extra = '') => {
    const s = connect({ host: '127.0.0.1', port });
    s.write(`GET /mcp HTTP/1.1\r\nhost: 127.0.0.1:${port}\r\naccept: text/event-stream\r\n${extra}\r\n`);
    return s;
  };

  // A reader: 300 events (about 5 MB, far more than the bound), read as they come, all arrive.
  const reader = get('x-events: 300\r\n');
  let got = '';
  reader.setEncoding('utf8');
  reader.on('data', (d: string) => (got += d));
  await new Promise((r) => reader.once('end', r));
  assert.equal(got.split('notifications/message').length - 1, 300, 'a client that reads gets the whole stream');
  assert.deepEqual(overflows, []);
  reader.destroy();

  // A client that never reads (no 'data' listener: its socket stays paused).
  pushed = 0;
  maxHeld = 0;
  const before = closed;
  const stalled = get();
  await until(() => overflows.length === 1 && closed === before + 1, 20_000, 'the stalled stream to be closed');
  assert.ok(overflows[0]! > BOUND, `reported over the bound: ${overflows[0]}`);
  assert.ok(maxHeld <= BOUND + Buffer.byteLength(EVENT), `buffered at most the bound and one event: ${maxHeld}`);
  const at = pushed;
  await new Promise((r) => setTimeout(r, 200));
  assert.equal(pushed, at, 'nothing more is pushed to a closed stream');
  assert.equal(overflows.length, 1, 'reported once');
  const ended = await new Promise<number>((resolve) => {
    let n = 0;
    stalled.on('data', (d: Buffer) => (n += d.length));
    stalled.on('error', () => undefined);
    stalled.once('close', () => resolve(n));
  });
  assert.ok(ended < pushed * EVENT.length, 'the client got a cut-off stream');
});

test('a backlog its client does not take within stallMs is closed as stalled; a slow reader that takes it in time is not', async (t) => {
  const closes: StreamClose[] = [];
  const ANSWER = 'x'.repeat(8 * 1024 * 1024); // one answer, far over what loopback socket buffers take, under the bound
  const server = createServer((_req, res: ServerResponse) => {
    boundResponseBuffer(res, 64 * 1024 * 1024, 4000, (why) => void closes.push(why));
    res.writeHead(200, { 'content-type': 'text/event-stream' });
    res.end(`data: ${ANSWER}\n\n`);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  t.after(() => {
    server.closeAllConnections();
    server.close();
  });
  const port = (server.address() as AddressInfo).port;
  const get = () => {
    const s = connect({ host: '127.0.0.1', port });
    s.write(`GET /mcp HTTP/1.1\r\nhost: 127.0.0.1:${port}\r\n\r\n`);
    return s;
  };
  // A slow reader: 256 KiB, then a pause of 40 ms, over and over (over a second for the answer).
  const slow = get();
  let got = 0;
  slow.on('data', (d: Buffer) => {
    got += d.length;
    if (got % (256 * 1024) < d.length) {
      slow.pause();
      setTimeout(() => slow.resume(), 40);
    }
  });
  await new Promise((r) => slow.once('end', r));
  assert.ok(got > ANSWER.length, `the slow reader got the whole answer (${got})`);
  assert.equal(closes.length, 0, 'a reader that keeps taking bytes is never closed');
  slow.destroy();
  // A client that reads nothing: closed once a stallMs passes with the backlog not taken.
  const stalled = get();
  await until(() => closes.length === 1, 10_000, 'the stalled answer to be closed');
  assert.equal(closes[0]!.reason, 'stalled');
  assert.ok(closes[0]!.buffered > 0);
  stalled.destroy();
});

test('the bound is raised to eight times the largest answer a tool may give, so that one whole answer is never cut', () => {
  const http = { max_stream_buffer: 8 * 1024 * 1024 } as Parameters<typeof streamBufferBound>[0]['http'];
  const limits = { max_input_bytes: 1, max_result_bytes: 1024 * 1024 };
  assert.deepEqual(streamBufferBound({ http, limits, connections: [] }), { bytes: 8 * 1024 * 1024, raisedFor: null });
  const big = streamBufferBound({ http, limits, connections: [{ name: 'logs', type: 'ssh', max_output_bytes: 4 * 1024 * 1024 } as never] });
  assert.equal(big.bytes, 32 * 1024 * 1024);
  assert.match(big.raisedFor!, /connections\.logs\.max_output_bytes/);
  assert.equal(streamBufferBound({ http, limits: { ...limits, max_result_bytes: 2 * 1024 * 1024 }, connections: [] }).bytes, 16 * 1024 * 1024);
});
