/**
 * The recogniser of trigger functions blind to the masked columns (trigger-bodies.ts), on bodies
 * as pg_proc.prosrc holds them: what it reads as blind (and the columns it counts as written), and
 * why it refuses the rest, each for the reason meant (a tokenizer fooled by a comment or a string
 * would refuse for another reason, or not at all). Against a real server:
 * test/e2e/sql-blind-triggers.test.ts.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { blindTrigger, type TriggerFacts } from '../../../tools/postgres/trigger-bodies.js';
import { tokenize } from '../../../tools/postgres/plpgsql-tokens.js';

const facts = (body: string | null, more: Partial<TriggerFacts> = {}): TriggerFacts => ({
  refused: null, body, when: false, whenColumns: [], whenWholeRow: false, whenMutable: false, whenOpaque: false, userTyped: [], shadowed: [],
  whenRowsDistinct: false, userEquality: false, moddatetime: null, ...more,
});
const judge = (body: string, more: Partial<TriggerFacts> = {}) => blindTrigger(facts(body, more), ['email']);
const why = (body: string, more: Partial<TriggerFacts> = {}): string => {
  const r = judge(body, more);
  assert.ok('why' in r, `${body}: read as blind`);
  return r.why;
};

test('the updated_at stamp and its usual variants are blind; the columns they name count as written', () => {
  assert.deepEqual(judge('BEGIN NEW.updated_at := now(); RETURN NEW; END'), { columns: ['updated_at'] });
  assert.deepEqual(judge(`
    /* a stamp /* nested */ still a comment: NEW.email */
    BEGIN
      -- NEW.email is not read here
      IF TG_OP = 'UPDATE' AND NEW.note IS DISTINCT FROM 'skip -- /* NEW.email' THEN
        NEW."Updated_At" = clock_timestamp(); -- stamp
        NEW.note := coalesce(NEW.note, $q$it's$q$ || E'\\'x' || 'a''b');
      ELSIF (OLD.n > 1.5e3) THEN NEW.n := OLD.n + 1;
      END IF;
      RETURN NEW;
    END`), { columns: ['note', 'Updated_At', 'n'] });
  assert.deepEqual(judge('BEGIN IF (NEW.n > 0) THEN RETURN NULL; END IF; RETURN OLD; END'), { columns: ['n'] });
  assert.deepEqual(judge('BEGIN NEW.tag := TG_ARGV[0]; RETURN NEW; END'), { columns: ['tag'] });
});

test('a masked column read in any spelling, or a whole row, is refused', () => {
  assert.match(why('BEGIN IF ascii(NEW.email) = 99 THEN RAISE EXCEPTION \'x\'; END IF; RETURN NEW; END'), /ascii/);
  assert.match(why('BEGIN IF NEW."email" IS NULL THEN RETURN NULL; END IF; RETURN NEW; END'), /names email/);
  assert.match(why('BEGIN IF NeW.EMAIL IS NULL THEN RETURN NULL; END IF; RETURN NEW; END'), /names email/);
  assert.match(why('BEGIN IF NEW."EMAIL" IS NULL THEN RETURN NULL; END IF; RETURN NEW; END'), /names EMAIL/);
  assert.match(why('BEGIN IF NEW.U&"\\0065mail" IS NULL THEN RETURN NULL; END IF; RETURN NEW; END'), /U&/);
  assert.match(why("BEGIN IF row_to_json(NEW)->>'note' = 'x' THEN RETURN NULL; END IF; RETURN NEW; END"), /call of row_to_json/);
  assert.match(why('BEGIN IF NEW::text = \'x\' THEN RETURN NULL; END IF; RETURN NEW; END'), /cast/);
  assert.match(why('BEGIN IF NEW IS DISTINCT FROM OLD THEN RETURN NEW; END IF; RETURN NULL; END'), /compares the whole rows OLD and NEW, and what the statement writes is not known/);
  assert.match(why('BEGIN IF NEW = OLD THEN RETURN NEW; END IF; RETURN NULL; END'), /whole row NEW/);
  assert.match(why('DECLARE r record; BEGIN r := NEW; RETURN NEW; END'), /variable r of a type other than/);
});

test('attack code a careless tokenizer takes for a comment or a string is read as code', () => {
  const attack = "IF NEW.email < 'd' THEN RAISE EXCEPTION 'probe'; END IF;";
  for (const hide of ["RAISE NOTICE '--';", "RAISE NOTICE E'\\'--';", "RAISE NOTICE '%', $q$ it's $q$;", '/* a /* b */ */', "RAISE NOTICE '/*';"]) {
    assert.match(why(`BEGIN ${hide} ${attack} RETURN NEW; END`), /names email/, hide);
  }
  // What PostgreSQL may read otherwise is refused outright.
  assert.match(why("BEGIN RAISE NOTICE 'a\\'; RETURN NEW; END"), /backslash/);
  assert.match(why('BEGIN /* open /* twice */ RETURN NEW; END'), /unterminated comment/);
  assert.match(why("BEGIN RAISE NOTICE $q$ x $Q$; RETURN NEW; END"), /unterminated dollar/);
  assert.match(why('BEGIN NEW.n := $1; RETURN NEW; END'), /\$ that opens/);
  assert.match(why("BEGIN NEW.b := B'101'; RETURN NEW; END"), /B''/);
  assert.match(why('BEGIN NEW.n := 0x1f; RETURN NEW; END'), /number/);
  assert.match(why('BEGIN NEW.n := now()::date; RETURN NEW; END'), /cast/);
  assert.match(why('BEGIN NEW.n := 1 =- 1; RETURN NEW; END'), /operator =-/);
  assert.match(why('BEGIN NEW.café := 1; RETURN NEW; END'), /character/);
  assert.match(why('BEGIN NEW."émail" := 1; RETURN NEW; END'), /not ASCII/);
  // PostgreSQL cuts a name to 63 bytes: a longer one may name a masked column.
  assert.match(why(`BEGIN NEW.${'e'.repeat(64)} := 1; RETURN NEW; END`), /truncate/);
  assert.match(why(`BEGIN NEW."${'e'.repeat(64)}" := 1; RETURN NEW; END`), /truncate/);
  assert.match(why('BEGIN\vNEW.n := 1; RETURN NEW; END'), /character/);
  assert.deepEqual(tokenize("E'a\\'b' 'c''d' \"x\"\"y\" $t$ z $t$"), [
    { k: 'str', v: "E'a\\'b'" }, { k: 'str', v: "'c''d'" }, { k: 'qid', v: 'x"y' }, { k: 'str', v: '$t$ z $t$' },
  ]);
});

test('anything that reads or runs more than the row is refused', () => {
  assert.match(why("BEGIN EXECUTE format('SELECT 1'); RETURN NEW; END"), /EXECUTE/);
  assert.match(why('BEGIN PERFORM 1 FROM public.t; RETURN NEW; END'), /PERFORM/);
  assert.match(why('BEGIN IF (SELECT 1) = 1 THEN RETURN NULL; END IF; RETURN NEW; END'), /SELECT/);
  assert.match(why('BEGIN INSERT INTO public.log VALUES (NEW.id); RETURN NEW; END'), /INSERT/);
  assert.match(why('BEGIN IF peek(NEW.note) THEN RETURN NULL; END IF; RETURN NEW; END'), /call of peek/);
  assert.match(why('BEGIN NEW.note := public.upper(NEW.note); RETURN NEW; END'), /qualified name|PUBLIC/);
  assert.match(why("BEGIN NEW.x := query_to_xml('select 1', true, false, ''); RETURN NEW; END"), /call of query_to_xml/);
  // IF is no SQL keyword: in an expression, if(...) calls a function.
  assert.match(why('BEGIN IF NEW.n > 0 AND if(NEW.n) THEN RETURN NULL; END IF; RETURN NEW; END'), /call of if/);
  assert.match(why('BEGIN NEW.n := log(NEW.n); RETURN NEW; END'), /call of log/);
  assert.match(why('BEGIN NEW.n := tg_nargs(1); RETURN NEW; END'), /call of tg_nargs/);
  // NEW.f(...) calls a function f of a schema new.
  assert.match(why('BEGIN NEW.n := NEW.f(1); RETURN NEW; END'), /whole row NEW/);
});

test('a name or operator that also exists outside pg_catalog, a user-typed column, the WHEN clause and the function facts', () => {
  assert.match(why('BEGIN NEW.note := upper(NEW.note); RETURN NEW; END', { shadowed: ['upper'] }), /upper, which also exists/);
  assert.match(why('BEGIN IF NEW.note IS DISTINCT FROM OLD.note THEN RETURN NEW; END IF; RETURN NULL; END', { shadowed: ['='] }), /uses =/);
  assert.match(why('BEGIN NEW.n := OLD.n + 1; RETURN NEW; END', { shadowed: ['+'] }), /uses \+/);
  assert.match(why('BEGIN NEW.d := 1; RETURN NEW; END', { userTyped: ['d'] }), /type outside pg_catalog/);
  const stamp = 'BEGIN NEW.updated_at := now(); RETURN NEW; END';
  assert.match(why(stamp, { when: true, whenColumns: ['email'] }), /WHEN clause reads email/);
  assert.match(why(stamp, { when: true, whenWholeRow: true }), /whole row/);
  assert.match(why(stamp, { when: true, whenColumns: ['note'], whenMutable: true }), /not IMMUTABLE/);
  assert.deepEqual(judge(stamp, { when: true, whenColumns: ['note'] }), { columns: ['updated_at'] });
  const secdef = blindTrigger(facts(null, { refused: 'is SECURITY DEFINER' }), ['email']);
  assert.deepEqual(secdef, { why: 'its function is SECURITY DEFINER' });
  assert.deepEqual(blindTrigger(undefined, ['email']), { why: 'the catalog does not say what it runs' });
});

test('DECLARE: local variables of built-in scalar types are read and assigned; nothing a masked value could flow into passes', () => {
  assert.deepEqual(judge(`DECLARE n int := 0; t timestamptz; s text DEFAULT 'x'; d numeric = 1.5;
    BEGIN t := now(); n := coalesce(OLD.n, 0) + 1; IF n > 3 AND s <> 'y' THEN NEW.n := n * d; END IF;
      NEW.tag := TG_ARGV[n]; NEW.updated_at := t; RETURN NEW; END`), { columns: ['n', 'tag', 'updated_at'] });
  // The type words count as names a public type could shadow.
  assert.match(why('DECLARE t timestamptz; BEGIN t := now(); NEW.updated_at := t; RETURN NEW; END', { shadowed: ['timestamptz'] }), /timestamptz, which also exists/);
  // A masked value flowing in, by name or whole row.
  assert.match(why('DECLARE v text := NEW.email; BEGIN RETURN NEW; END'), /names email/);
  assert.match(why('DECLARE email text; BEGIN email := NEW.note; RETURN NEW; END'), /names email/);
  assert.match(why('DECLARE v text; BEGIN v := row_to_json(NEW); RETURN NEW; END'), /call of row_to_json/);
  assert.match(why('DECLARE v text; BEGIN SELECT t.email INTO v FROM public.t t WHERE t.id = NEW.id; RETURN NEW; END'), /SELECT/);
  // Types and forms outside the rule.
  assert.match(why('DECLARE v public.t%ROWTYPE; BEGIN RETURN NEW; END'), /type other than/);
  assert.match(why('DECLARE v t%ROWTYPE; BEGIN RETURN NEW; END'), /type other than/);
  assert.match(why('DECLARE v int%TYPE; BEGIN RETURN NEW; END'), /followed by %/);
  assert.match(why('DECLARE v record; BEGIN RETURN NEW; END'), /type other than/);
  assert.match(why('DECLARE v mydomain := NEW.note; BEGIN RETURN NEW; END'), /type other than/);
  assert.match(why('DECLARE v varchar(10); BEGIN RETURN NEW; END'), /followed by \(/);
  assert.match(why('DECLARE v int[]; BEGIN RETURN NEW; END'), /followed by \[/);
  assert.match(why('DECLARE c CURSOR FOR SELECT 1; BEGIN RETURN NEW; END'), /type other than/);
  assert.match(why('DECLARE c refcursor; BEGIN RETURN NEW; END'), /type other than/);
  assert.match(why('DECLARE v ALIAS FOR NEW; BEGIN RETURN NEW; END'), /type other than/);
  assert.match(why('DECLARE v CONSTANT int := 1; BEGIN RETURN NEW; END'), /type other than/);
  assert.match(why('DECLARE v int NOT NULL := 1; BEGIN RETURN NEW; END'), /followed by not/);
  assert.match(why('DECLARE "v" int; BEGIN RETURN NEW; END'), /not of the form/);
  assert.match(why('DECLARE v int; BEGIN DECLARE w int; BEGIN END; RETURN NEW; END'), /word DECLARE/);
  assert.match(why('DECLARE v int; w int := 1'), /no BEGIN/);
  // Names PostgreSQL may read as a statement or an expression's keyword.
  for (const name of ['execute', 'perform', 'new', 'old', 'found', 'now', 'tg_op', 'raise', 'select', 'int', 'row', 'interval']) {
    assert.match(why(`DECLARE ${name} text; BEGIN RETURN NEW; END`), /variable named/, name);
  }
  // A variable followed by what would make it something else: a typed literal, a call, a field, a subscript.
  assert.match(why("DECLARE v int; BEGIN IF v 'x' IS NULL THEN RETURN NULL; END IF; RETURN NEW; END"), /variable v followed by 'x'/);
  assert.match(why('DECLARE v int; BEGIN NEW.n := v(1); RETURN NEW; END'), /variable v followed by \(/);
  assert.match(why('DECLARE v int; BEGIN NEW.n := v.x; RETURN NEW; END'), /variable v followed by \./);
  assert.match(why('DECLARE v int; BEGIN NEW.n := v email; RETURN NEW; END'), /variable v followed by email|names email/);
});

test('WHEN (OLD.* IS DISTINCT FROM NEW.*): blind only when the statement writes no masked column, column by column, every equality built in', () => {
  const stamp = 'BEGIN NEW.updated_at := now(); RETURN NEW; END';
  const rows = { when: true, whenWholeRow: true, whenRowsDistinct: true };
  const judgeW = (w: string[] | null, more: Partial<TriggerFacts> = {}) => blindTrigger(facts(stamp, { ...rows, ...more }), ['email'], w);
  assert.deepEqual(judgeW(['note']), { columns: ['updated_at'] });
  assert.match((judgeW(['note', 'email']) as { why: string }).why, /writes the masked column email/);
  assert.match((judgeW(['note', 'EMAIL']) as { why: string }).why, /writes the masked column EMAIL/);
  assert.match((judgeW(null) as { why: string }).why, /not known column by column/);
  assert.match((judgeW(['*']) as { why: string }).why, /not known column by column/);
  assert.match((judgeW(['note'], { userTyped: ['pt'] }) as { why: string }).why, /column pt is of a type outside pg_catalog/);
  assert.match((judgeW(['note'], { userEquality: true }) as { why: string }).why, /operator class outside pg_catalog/);
  // Any other whole-row WHEN, or one calling a mutable function, stays refused.
  assert.match((blindTrigger(facts(stamp, { when: true, whenWholeRow: true }), ['email'], ['note']) as { why: string }).why, /reads a whole row/);
  assert.match((judgeW(['note'], { whenColumns: ['email'] }) as { why: string }).why, /reads email/);
  // The function is judged as ever.
  assert.match((blindTrigger(facts('BEGIN IF NEW.email IS NULL THEN RETURN NULL; END IF; RETURN NEW; END', rows), ['email'], ['note']) as { why: string }).why, /names email/);
});

test('NEW IS DISTINCT FROM OLD in the body: judged as the whole-row WHEN, and only as an operand of loosely binding neighbours', () => {
  const w = (body: string, written: string[] | null = ['note'], more: Partial<TriggerFacts> = {}) => blindTrigger(facts(body, more), ['email'], written);
  const stamp = (cond: string) => `BEGIN IF ${cond} THEN NEW.updated_at := now(); END IF; RETURN NEW; END`;
  for (const [cond, columns] of [['NEW IS DISTINCT FROM OLD', []], ['OLD IS NOT DISTINCT FROM NEW', []], ['TG_OP = \'UPDATE\' AND (NEW IS DISTINCT FROM OLD)', []],
    ['NOT NEW IS DISTINCT FROM OLD OR NEW.n > 1', ['n']], ['coalesce(NEW IS DISTINCT FROM OLD, false)', []], ['NEW.note IS DISTINCT FROM OLD.note', ['note']]] as const) {
    assert.deepEqual(w(stamp(cond)), { columns: [...columns, 'updated_at'] }, cond);
  }
  assert.deepEqual(w('DECLARE b boolean; BEGIN b := NEW IS DISTINCT FROM OLD; IF b THEN NEW.n := 1; END IF; RETURN NEW; END'), { columns: ['n'] });
  // As the WHEN clause: the masked column written, columns not known one by one, a user type, a user equality.
  assert.match((w(stamp('NEW IS DISTINCT FROM OLD'), ['note', 'email']) as { why: string }).why, /function compares the whole rows OLD and NEW, and the statement writes the masked column email/);
  assert.match((w(stamp('NEW IS DISTINCT FROM OLD'), ['*']) as { why: string }).why, /not known column by column/);
  assert.match((w(stamp('NEW IS DISTINCT FROM OLD'), ['note'], { userTyped: ['pt'] }) as { why: string }).why, /column pt is of a type outside pg_catalog/);
  assert.match((w(stamp('NEW IS DISTINCT FROM OLD'), ['note'], { userEquality: true }) as { why: string }).why, /operator class outside pg_catalog/);
  assert.match((w(stamp('NEW IS DISTINCT FROM OLD'), ['note'], { shadowed: ['='] }) as { why: string }).why, /uses =, which also exists outside pg_catalog/);
  // A neighbour binding more tightly than IS takes a whole row into another expression.
  for (const cond of ['NEW.n = NEW IS DISTINCT FROM OLD', 'NEW IS DISTINCT FROM OLD = true', 'NEW.n BETWEEN 1 AND NEW IS DISTINCT FROM OLD',
    'NEW IS DISTINCT FROM OLD IS NULL', 'NEW IS DISTINCT FROM OLD || \'x\'', 'NEW IS DISTINCT FROM NEW', 'NEW.note IS DISTINCT FROM OLD', 'NEW IS DISTINCT FROM OLD.note']) {
    assert.match((w(stamp(cond)) as { why: string }).why, /whole row (NEW|OLD) used otherwise/, cond);
  }
});

test("contrib's moddatetime: blind, the column it names written; its WHEN clause judged as ever", () => {
  const mod = (more: Partial<TriggerFacts> = {}) => blindTrigger(facts(null, { refused: 'is not written in PL/pgSQL', moddatetime: 'updated_at', ...more }), ['email']);
  assert.deepEqual(mod(), { columns: ['updated_at'] });
  assert.match((mod({ when: true, whenColumns: ['email'] }) as { why: string }).why, /WHEN clause reads email/);
  assert.deepEqual(blindTrigger(facts(null, { refused: 'is not written in PL/pgSQL' }), ['email']), { why: 'its function is not written in PL/pgSQL' });
});
