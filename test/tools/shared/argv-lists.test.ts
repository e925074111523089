/**
 * argv-lists.ts: an argv written as a list in command output (a manifest's block sequence, a flow
 * list or exec form, a JSON array one string a line, one word a line) is read as one argv, so a
 * password behind a secret flag or a program's password flag is masked as on a shell line.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { maskArgvLists } from '../../../tools/shared/argv-lists.js';
import { maskSecretStreams } from '../../../tools/shared/secret-text.js';

const masked = (text: string) => maskSecretStreams({ s: text });

describe('argv lists in command output', () => {
  test('block sequences, flow lists, exec forms and JSON arrays hide the value, keeping quotes and indentation', () => {
    const cases: [string, string][] = [
      ['args:\n  - --db-password\n  - pw-block-1\n', 'args:\n  - --db-password\n  - ***\n'],
      ["command:\n  - mysqldump\n  - -uroot\n  - '-ppw-quoted-2'\n", "command:\n  - mysqldump\n  - -uroot\n  - '-p***'\n"],
      ['command: ["app", "--api-token", "pw-flow-3"]\n', 'command: ["app", "--api-token", "***"]\n'],
      ['command: [sshpass, -p, pw-plain-4, ssh, db]\n', 'command: [sshpass, -p, ***, ssh, db]\n'],
      ['CMD ["mysql", "-uroot", "-ppw-exec-5"]\n', 'CMD ["mysql", "-uroot", "-p***"]\n'],
      ['"Args": [\r\n    "--password",\r\n    "pw-json-6"\r\n]\r\n', '"Args": [\r\n    "--password",\r\n    "***"\r\n]\r\n'],
      ['app\n--db-password\npw-lines-7\n', 'app\n--db-password\n***\n'],
      // A Kubernetes container's command and args are one argv, also as two flow lists.
      ['command: ["sshpass"]\nargs: ["-p", "pw-split-8", "ssh", "db"]\n', 'command: ["sshpass"]\nargs: ["-p", "***", "ssh", "db"]\n'],
    ];
    for (const [text, want] of cases) {
      const r = masked(text);
      assert.equal(r.streams.s, want, text);
      assert.equal(r.masked, 1, `${text}: one value masked`);
    }
  });

  test('a quoted value whose text its escapes change is masked whole', () => {
    assert.equal(maskArgvLists('- --password\n- "pw\\u002dnine"\n'), '- --password\n- "***"\n');
    assert.equal(maskArgvLists("- --password\n- 'pw''ten'\n"), "- --password\n- '***'\n");
  });

  test('lists without a secret, and prose lines, are shown as they are', () => {
    for (const text of [
      'args:\n  - --port\n  - "8080"\n  - --log-level\n  - debug\nports: [80, 443]\n',
      'mysql -u app is the client\nthe -p flag asks for a password\n',
      'see [1], [2, 3] and [a, "b"]\n',
      '- -p\n- 8080\n',
    ]) {
      const r = masked(text);
      assert.equal(r.streams.s, text, text);
      assert.equal(r.masked, 0, text);
    }
  });

  test('a value the line masker hid is not counted again', () => {
    const r = masked('app --db-password pw-eleven\nDB_PASSWORD=pw-twelve\n- --password\n- ***\n');
    assert.equal(r.streams.s, 'app --db-password ***\nDB_PASSWORD=***\n- --password\n- ***\n');
    assert.equal(r.masked, 2);
  });
});
