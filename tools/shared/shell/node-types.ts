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
