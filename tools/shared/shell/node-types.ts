/**
 * How the shell walker (walker.ts) classifies tree-sitter-bash node types: constructs it records,
 * types that carry no meaning of their own, and text bash evaluates again after quote removal.
 */
import type { Node } from 'web-tree-sitter';
import { parseError } from '../../../src/tool-api.js';
import type { ShellConstruct } from './types.js';

/** Constructs that wrap statements; their subtrees are walked for nested commands. */
export const STATEMENT_CONSTRUCTS: Record<string, ShellConstruct> = {
  subshell: 'subshell',
  compound_statement: 'group',
  list: 'and_or',
  negated_command: 'negation',
  function_definition: 'function_definition',
  if_statement: 'if',
  while_statement: 'loop',
  for_statement: 'loop',
  c_style_for_statement: 'loop',
  case_statement: 'case',
  test_command: 'test',
  declaration_command: 'declaration',
  unset_command: 'unset',
  variable_assignment: 'assignment',
  variable_assignments: 'assignment',
  array: 'array',
  herestring_redirect: 'herestring',
  comment: 'comment',
  command_substitution: 'command_substitution',
  process_substitution: 'process_substitution',
  simple_expansion: 'parameter_expansion',
  expansion: 'parameter_expansion',
  arithmetic_expansion: 'arithmetic_expansion',
  brace_expression: 'brace_expansion',
  translated_string: 'translated_string',
  extglob_pattern: 'glob',
};

/** Named node types that carry no meaning of their own inside an already-recorded construct. */
export const INERT = new Set([
  'case_item', 'do_group', 'elif_clause', 'else_clause', 'heredoc_body', 'heredoc_content',
  'heredoc_start', 'heredoc_end', 'file_descriptor', 'regex', 'special_variable_name',
  'string_content', 'test_operator', 'variable_name', 'word', 'number', 'raw_string',
  'ansi_c_string', 'string', 'concatenation', 'command_name', 'binary_expression',
  'unary_expression', 'ternary_expression', 'postfix_expression', 'parenthesized_expression',
  'subscript',
]);

/** Leaf text bash may still expand, where tree-sitter-bash leaves a backtick as plain text (`${x:-`cmd`}`). */
export const TEXT_LEAVES = new Set(['word', 'regex', 'string_content', 'heredoc_content']);

/**
 * Where bash evaluates text as arithmetic or a variable name after quote removal, so a `$(..)`,
 * backtick or `${..}` written inside quotes still runs (`(( 'a[$(cmd)]' ))`, `[[ 'a[$(cmd)]' -eq 1 ]]`,
 * `[[ -v 'a[$(cmd)]' ]]`, `unset 'a[$(cmd)]'`, `${a['$(cmd)']}`). `((` is a compound_statement.
 */
export const EVALUATING = new Set(['test_command', 'arithmetic_expansion', 'subscript', 'c_style_for_statement', 'unset_command']);
/** Quoted or escaped text: its `$` and backticks are literal to the parser, not to bash's evaluation. */
const LITERAL_TEXT = new Set(['raw_string', 'ansi_c_string', 'string_content', 'word', 'number']);
/** Nested statements and substitutions: their words are ordinary words again. */
const STATEMENTS = new Set([
  'command_substitution', 'process_substitution', 'do_group', 'compound_statement', 'command', 'pipeline', 'list', 'redirected_statement',
  'subshell', 'declaration_command',
]);

/** Refuse literal `$` or backticks that bash evaluates inside `node` (see EVALUATING). Why refuse: neither side can judge them. */
export function refuseEvaluatedLiterals(node: Node): void {
  for (const child of node.namedChildren) {
    if (child === null || STATEMENTS.has(child.type)) continue;
    if (LITERAL_TEXT.has(child.type) && /[$`]/.test(child.text)) {
      throw parseError('unsupported quoted $ or backtick where bash evaluates text as arithmetic or a variable name');
    }
    refuseEvaluatedLiterals(child);
  }
}

/** Does `text` hold a backtick no backslash escapes? */
export function unescapedBacktick(text: string): boolean {
  return /(^|[^\\])(\\\\)*`/.test(text);
}

/** Does `text` hold a `$(`, `${` or `$[` no backslash escapes? Why: in a text leaf bash still expands it. */
export function unescapedSubstitution(text: string): boolean {
  return /(^|[^\\])(\\\\)*\$[({[]/.test(text);
}

/** Tokens of tree-sitter-bash's `[ .. ]` expression that the shell also passes to `[` as words. */
const TEST_WORD_TOKENS: ReadonlySet<string> = new Set(['[', ']', '!', '=', '==', '!=']);
/** Expression nodes of `[ .. ]` whose tokens are checked (the words under them are ordinary words). */
const TEST_EXPRESSIONS: ReadonlySet<string> = new Set(['binary_expression', 'unary_expression', 'ternary_expression', 'postfix_expression']);

/**
 * Refuse a `[ .. ]` holding a token the shell does not pass to `[` as a word. Why: `[` is a
 * command to bash and dash, so in `[ a || cmd ]`, `[ a | cmd ]`, `[ a < f ]` or `[ x =~ a|cmd ]`
 * the `||`, `|` and `<` separate commands or redirect, where tree-sitter-bash reads one test
 * expression and sees no command at all.
 */
export function refuseTestOperators(node: Node): void {
  for (const child of node.children) {
    if (child === null) continue;
    if (!child.isNamed) {
      if (!TEST_WORD_TOKENS.has(child.type)) throw parseError(`unsupported '${child.type}' inside [ .. ], where the shell reads it as an operator`);
    } else if (child.type === 'regex' || child.type === 'parenthesized_expression') {
      throw parseError('unsupported pattern or parentheses inside [ .. ], where the shell reads their | and ( as operators');
    } else if (TEST_EXPRESSIONS.has(child.type)) {
      refuseTestOperators(child);
    }
  }
}
