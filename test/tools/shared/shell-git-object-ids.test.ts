/**
 * git of an object named by its id (shell/git-object-shows.ts, git-object-output.ts): which
 * `git show` forms are judged by their output or refused, what reads as a commit's, tag's or
 * tree's display, and a diff of blobs by their ids masked (secret-file-lines.ts). The end-to-end
 * test against a real repository is test/e2e/ssh-git-object-ids.test.ts.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { gitObjectRead, gitShowJudged, gitShowRefusal, gitShowsById } from '../../../tools/shared/shell/git-object-shows.js';
import { maskShownObject, readsAsObjectDisplay } from '../../../tools/shared/git-object-output.js';
import { maskSecretFileLines } from '../../../tools/shared/secret-file-lines.js';

const ID = '671770c9ff40f2d383aa7433d3bfb3f426193bb6';

test('git show of an id is judged; a commit-shaped name is not; a name alone with the default display is', () => {
  for (const w of [ID, ID.slice(0, 4), `${ID}^{}`, `${ID}^{blob}`, `${ID}^{object}`, 'v1^{}', 'cafe']) assert.ok(gitShowsById(['show', w]), w);
  for (const w of ['HEAD', `${ID}^`, `${ID}~2`, `${ID}^{commit}`, `${ID}^{tree}`, 'main', `HEAD:${ID}`, `${ID}..HEAD`, 'abc']) assert.ok(!gitShowsById(['show', w]), w);
  assert.ok(gitShowJudged(['-C', '/r', 'show', 'v1.0']));
  assert.ok(gitShowJudged(['show', '--stat', 'main']));
  assert.ok(!gitShowJudged(['show', '--oneline', 'main']));
  assert.ok(!gitShowJudged(['show', 'HEAD']));
  assert.ok(!gitShowJudged(['show', 'v1', 'v2']));
  assert.ok(!gitShowJudged(['show', 'HEAD:README']));
  assert.ok(!gitShowJudged(['log', ID]));
});

test('forms that cannot be judged are refused; the default display of one id is not', () => {
  assert.match(gitShowRefusal(['show', '--format=%B', ID]) ?? '', /--format=%B changes.*git log -1 --format=/);
  assert.match(gitShowRefusal(['show', '--pretty=raw', ID]) ?? '', /--pretty=raw/);
  assert.match(gitShowRefusal(['show', 'HEAD', ID]) ?? '', /one object/);
  assert.match(gitShowRefusal(['show', '--stdin']) ?? '', /--stdin/);
  for (const opts of [[], ['--stat'], ['-s'], ['--color=always'], ['--name-only', '--decorate']]) assert.equal(gitShowRefusal(['show', ...opts, ID]), null, opts.join(' '));
  assert.match(gitObjectRead(['grep', '-e', 'x', ID.slice(0, 7)]) ?? '', /by its id/);
  assert.match(gitObjectRead(['grep', 'x', ID]) ?? '', /by its id/);
  assert.equal(gitObjectRead(['grep', ID, 'HEAD']), null);
  assert.equal(gitObjectRead(['grep', 'x', `${ID}^{tree}`]), null);
  assert.match(gitObjectRead(['cat-file', '--textconv', ID]) ?? '', /by its id/);
  assert.equal(gitObjectRead(['cat-file', '-t', ID]), null);
  assert.equal(gitObjectRead(['cat-file', 'commit', ID]), null);
});

test("a commit's, tree's or tag's display reads as one; a blob and a tag of a blob do not", () => {
  assert.ok(readsAsObjectDisplay(`commit ${ID}\nAuthor: t\n`));
  assert.ok(readsAsObjectDisplay(`\x1b[33mcommit ${ID.slice(0, 7)}\x1b[m\x1b[33m (tag: v1)\x1b[m\n`));
  assert.ok(readsAsObjectDisplay('tree HEAD^{tree}\n\nREADME\n'));
  assert.ok(readsAsObjectDisplay(`tag v1\nTagger: t\n\nrelease\n\ncommit ${ID}\nAuthor: t\n`));
  assert.ok(readsAsObjectDisplay(''));
  assert.ok(!readsAsObjectDisplay('hvs.secret\n'));
  assert.ok(!readsAsObjectDisplay('tag note\nTagger: t\n\na note\nhvs.secret\n'));
  const cmd = [{ program: 'git', args: ['show', ID] }] as never;
  assert.deepEqual(maskShownObject({ stdout: 'hvs.secret\n', stderr: '' }, cmd), { streams: { stdout: '***\n', stderr: '' }, masked: 1 });
  assert.equal(maskShownObject({ stdout: 'hvs.secret\n', stderr: '' }, [{ program: 'git', args: ['show', 'HEAD:README'] }] as never).masked, 0);
});

test("a diff of blobs by their ids has its lines masked; a file's diff in a folder named by hex letters does not", () => {
  const blobs = `diff --git a/ce01362 b/${ID.slice(0, 7)}\nindex ce01362..671770c 100644\n--- a/ce01362\n+++ b/671770c\n@@ -1 +1 @@\n-hello\n+hvs.secret\n`;
  const r = maskSecretFileLines(blobs);
  assert.ok(!r.text.includes('hvs.secret') && !r.text.includes('hello'), r.text);
  assert.match(r.text, /^\+\*\*\*$/m);
  const plain = 'diff --git a/src/cafe/x.ts b/src/cafe/x.ts\n--- a/src/cafe/x.ts\n+++ b/src/cafe/x.ts\n@@ -1 +1 @@\n-a\n+b\n';
  assert.equal(maskSecretFileLines(plain).text, plain);
});
