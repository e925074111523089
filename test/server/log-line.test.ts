/**
 * Red team: Warden's own log (JSON lines on stderr). The secret scrub ran over the serialised
 * line, so a value ending in `token=` (a token subject, a host's words) had the closing quote
 * and the next field eaten, and the line was no longer JSON; a data field named `level` (the
 * SSH handshake's error level) replaced the line's own level; C1 controls and bidi overrides
 * went out raw to whoever tails the log in a terminal. Every string is scrubbed before
 * serialising, the line's own fields cannot be replaced, hidden characters are \uXXXX escapes.
 * The scrub also covers a password holding a raw @ in a URL (`ss-...` showed), a JSON
 * "password" member quoted in a message, and a Bearer credential.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { rawHidden } from '../support/hidden-chars.js';
import { log, setLogLevel } from '../../src/server/log.js';


function captured(fn: () => void): string[] {
  const lines: string[] = [];
  const write = process.stderr.write.bind(process.stderr);
  process.stderr.write = ((chunk: string | Uint8Array) => {
    lines.push(String(chunk));
    return true;
  }) as typeof process.stderr.write;
  try {
    fn();
  } finally {
    process.stderr.write = write;
  }
  return lines;
}

test('a log line stays one JSON object with its own level, secrets scrubbed, hidden characters escaped', () => {
  setLogLevel('debug');
  const lines = captured(() => {
    log('warn', 'http session refused', {
      subject: 'alice token=',
      level: 'client-authentication',
      msg: 'forged',
      note: 'ok\u202e\x9b2J\u2028{"level":"error"}\nnext',
      message: 'connect to postgres://app:hunter2@db:5432/shop failed; password=hunter2',
      // A raw @ in the password (the URL parser takes the last @), a JSON body quoted in an error, a header.
      url: 'postgres://app:p@ss-hunter2@db:5432/shop',
      body: 'upstream said {"password":"hunter2","user":"app"}',
      header: 'Authorization: Bearer eyJhbGciOiJFUzI1NiJ9.hunter2.sig',
      limit: 3,
    });
  });
  setLogLevel('info');
  assert.equal(lines.length, 1);
  const line = lines[0]!;
  assert.ok(line.endsWith('\n') && line.indexOf('\n') === line.length - 1, 'one line');
  assert.equal(rawHidden(line), null, `no raw hidden character: ${JSON.stringify(line)}`);
  const o = JSON.parse(line) as Record<string, unknown>;
  assert.equal(o.level, 'warn', "a data field cannot replace the line's level");
  assert.equal(o.msg, 'http session refused');
  assert.equal(o.data_level, 'client-authentication');
  assert.equal(o.data_msg, 'forged');
  assert.equal(o.subject, 'alice token=');
  assert.equal(o.limit, 3);
  assert.equal(o.note, 'ok\u202e\x9b2J\u2028{"level":"error"}\nnext', 'the exact text once parsed');
  assert.ok(!line.includes('hunter2'), `secrets scrubbed: ${line}`);
  assert.equal(o.url, 'postgres://app:***@db:5432/shop', 'the host stays readable');
  assert.equal(o.message, 'connect to postgres://app:***@db:5432/shop failed; password=***');
  assert.equal(o.header, 'Authorization: Bearer ***');
});
