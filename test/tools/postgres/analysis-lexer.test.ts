import { test } from 'node:test';
import assert from 'node:assert/strict';
import { canonicalize, lex, splitStatements } from '../../../tools/postgres/analysis/lexer.js';

const kinds = (sql: string): string[] => lex(sql).map((t) => `${t.kind}:${t.value}`);
const isParse = (e: unknown): boolean => (e as { code?: string }).code === 'WARDEN_PARSE';

test('standard strings: backslash is not an escape', () => {
  assert.deepEqual(kinds("SELECT 'a\\', x"), ['ident:select', 'string:a\\', 'punct:,', 'ident:x']);
  assert.equal(splitStatements(lex("SELECT 'a\\'; DROP TABLE users; --'")).length, 2);
});

test('E strings honour backslash escapes', () => {
  assert.deepEqual(kinds("SELECT E'a\\'b'"), ['ident:select', "string:a\\'b"]);
  assert.equal(splitStatements(lex("SELECT E'a\\'; DROP TABLE users; --'")).length, 1);
});

test("bit strings: a doubled quote ends B'' and X'' as PostgreSQL reads them (then an adjacent string is refused)", () => {
  // scan.l undoes '' only in '', E'' and U&'' strings: B'1''0' is B'1' followed by the string '0'.
  assert.deepEqual(kinds("SELECT B'1''0'"), ['ident:select', 'string:1', 'string:0']);
  assert.deepEqual(kinds("SELECT X'1F''2'"), ['ident:select', 'string:1F', 'string:2']);
  assert.deepEqual(kinds("SELECT N'it''s'"), ['ident:select', "string:it's"]);
  for (const sql of ["SELECT B'1''0'", "SELECT x'ab'''"]) {
    assert.throws(() => canonicalize(lex(sql)), isParse, sql);
  }
});

test('doubled quotes, dollar quotes and tags', () => {
  assert.deepEqual(kinds("SELECT 'it''s'"), ['ident:select', "string:it's"]);
  assert.deepEqual(kinds('SELECT $$a;b$$, $t$x$t$'), ['ident:select', 'string:a;b', 'punct:,', 'string:x']);
  assert.throws(() => lex('SELECT $x$ $$;DROP TABLE users;$$ $x$'), isParse);
  assert.throws(() => lex('SELECT $$abc'), isParse);
});

test('nested block comments and line comments', () => {
  assert.deepEqual(kinds('SELECT /* a /* b */ ; */ 1 -- ; x\n'), ['ident:select', 'number:1']);
  assert.throws(() => lex('SELECT /* /* */ 1'), isParse);
});

test('identifiers fold ASCII only, quoted keep case', () => {
  assert.deepEqual(kinds('SELECT Foo, "Foo", "a""b"'.replace('"a""b"', '"ab"')), ['ident:select', 'ident:foo', 'punct:,', 'qident:Foo', 'punct:,', 'qident:ab']);
  assert.throws(() => lex('SELECT "a""b"'), isParse);
  assert.throws(() => lex(`SELECT ${'a'.repeat(64)}`), isParse);
});

test('form feed and other whitespace separate tokens', () => {
  assert.equal(splitStatements(lex('SELECT 1\f; DROP TABLE users')).length, 2);
  assert.deepEqual(kinds('SELECT\f1\v'), ['ident:select', 'number:1']);
});

test('U& escapes, backticks, glued numbers and unterminated input are refused', () => {
  for (const sql of ["SELECT U&'d\\0061ta'", 'SELECT U&"d\\0061ta"', 'SELECT `a`', 'SELECT 1abc', "SELECT 'abc", 'SELECT "abc', '}{'] ) {
    assert.throws(() => lex(sql), isParse, sql);
  }
});

test('operators follow PostgreSQL rules and stop at comments', () => {
  assert.deepEqual(kinds('a<-1'), ['ident:a', 'op:<', 'op:-', 'number:1']);
  assert.deepEqual(kinds('a*--x\n2'), ['ident:a', 'op:*', 'number:2']);
  assert.deepEqual(kinds('a @- 1'), ['ident:a', 'op:@-', 'number:1']);
});

test('canonical text hides literals and drops ONLY', () => {
  const c = canonicalize(lex("SELECT 'a\\', Email FROM ONLY Users -- '"));
  assert.equal(c.text, "select 'wlit0' , email from users");
  assert.deepEqual(c.literals, ['a\\']);
  assert.throws(() => canonicalize(lex("SELECT 'a'\n'b'")), isParse);
  assert.throws(() => canonicalize(lex('SELECT ' + '('.repeat(100) + '1' + ')'.repeat(100))), isParse);
});
