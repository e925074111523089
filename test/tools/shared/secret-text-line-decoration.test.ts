/**
 * An ini line (`password = x`, blanks or tabs around `=`) is read as a whole line only, and a line
 * number or diff marker before it hid it from every form: `cat -n app.ini` (`     3<TAB>password =
 * x`), `nl`, `uniq -c`, `diff` (`< password = x`) and `diff -u`/`git diff` (`+DB_PASSWORD=x`)
 * showed the value. Now those decorations are read as a prefix of the whole line.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { maskSecretText } from '../../../tools/shared/secret-text.js';

test('a whole line behind a line number or a diff marker is masked', () => {
  const cases: [string, string][] = [
    ['     3\tpassword\t=\thunter2\n', '     3\tpassword\t=\t***\n'],
    ['     3\tpassword = hunter2\n', '     3\tpassword = ***\n'],
    ['      2 password = hunter2\n', '      2 password = ***\n'],
    ['< password = hunter2\n> password = hunter3\n', '< password = ***\n> password = ***\n'],
    ['-DB_PASSWORD=hunter2\n+DB_PASSWORD=hunter3\n', '-DB_PASSWORD=***\n+DB_PASSWORD=***\n'],
    ['+  api_token: hunter2\n', '+  api_token: ***\n'],
    ['12 export SECRET_KEY="hunter2"\n', '12 export SECRET_KEY=***\n'],
  ];
  for (const [text, want] of cases) assert.equal(maskSecretText(text), want, JSON.stringify(text));
});

test('decorated lines without a secret name stay as they are', () => {
  for (const text of ['     3\thost = db.internal\n', '      2 timeout = 30\n', '+LOG_LEVEL=debug\n', '< port = 5432\n', '12 items = 4\n']) {
    assert.equal(maskSecretText(text), text);
  }
});
