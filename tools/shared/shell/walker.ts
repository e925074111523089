/**
 * The walk of a tree-sitter-bash tree into ShellFacts' commands and constructs (parse.ts runs
 * it on each statement). Fail closed: any node type not handled here or listed in node-types.ts
 * throws a WARDEN_PARSE error.
 */
import type { Node } from 'web-tree-sitter';
import { parseError } from '../../../src/tool-api.js';
import { EVALUATING, INERT, STATEMENT_CONSTRUCTS, TEXT_LEAVES, refuseEvaluatedLiterals, refuseTestOperators, unescapedBacktick, unescapedSubstitution } from './node-types.js';
import { decodeWord, redirectTarget, type WordSink } from './words.js';
import type { ShellCommand, ShellConstruct } from './types.js';

/**
 * Deepest nesting of syntax nodes walked. Why: the walk recurses, and 8 KB of `$( $( ... ) )`
 * overflowed the stack (a RangeError, not a refusal). Real command lines nest a few levels; a
 * `&&` chain nests one level per command.
 */
export const MAX_SHELL_DEPTH = 256;

/** Collects commands, constructs and top-level pipes from one parse. Why a class: words report constructs back through WordSink. */
export class Walker implements WordSink {
  readonly commands: ShellCommand[] = [];
  readonly found = new Set<ShellConstruct>();
  pipelines = 0;
  /** The files of the redirections being walked, by the command or statement they belong to (innermost last). */
  private redirectFrames: string[][] = [];

  construct(c: ShellConstruct): void {
    this.found.add(c);
  }

  /** Generic walk of any subtree: records constructs, extracts commands, refuses the unknown. */
  walk(node: Node): void {
    // Inside backticks bash reads `\``, `\$` and `\\` once more before parsing: `echo \`rm x\`` runs rm.
    if (node.type === 'command_substitution' && node.text.startsWith('`') && node.text.includes('\\')) {
      throw parseError('unsupported backslash inside a backtick command substitution');
    }
    if (EVALUATING.has(node.type) || (node.type === 'compound_statement' && node.child(0)?.type === '((')) refuseEvaluatedLiterals(node);
    if (node.type === 'expansion') this.expansionAssignment(node);
    for (const child of node.namedChildren) {
      if (child !== null) this.visit(child, false);
    }
  }

  /** Nodes being visited, outermost first; bounded by MAX_SHELL_DEPTH. */
  private depth = 0;

  visit(node: Node, topLevel: boolean): void {
    if (this.depth >= MAX_SHELL_DEPTH) throw parseError(`command nests deeper than ${MAX_SHELL_DEPTH} levels`);
    this.depth++;
    try {
      this.visitNode(node, topLevel);
    } finally {
      this.depth--;
    }
  }

  private visitNode(node: Node, topLevel: boolean): void {
    switch (node.type) {
      case 'command':
        this.command(node);
        return;
      case 'pipeline':
        this.pipeline(node, topLevel);
        return;
      case 'redirected_statement':
        this.redirected(node, topLevel);
        return;
      case 'file_redirect':
        this.fileRedirect(node);
        return;
      case 'declaration_command':
        this.declaration(node);
        return;
      case 'variable_assignment':
      case 'variable_assignments':
        this.bareAssignments(node);
        return;
      case 'for_statement':
        this.forLoop(node);
        return;
      case 'heredoc_redirect':
        this.heredoc(node);
        return;
    }
    if (TEXT_LEAVES.has(node.type) && unescapedBacktick(node.text)) {
      throw parseError('unsupported backtick the shell parser reads as text');
    }
    // tree-sitter-bash reads the pattern of `${x#..}`, `${x%..}`, `${x^..}`, `${x,..}` as one
    // text leaf, where bash and dash run the `$(cmd)` (and expand the `${..}`) in it.
    if (TEXT_LEAVES.has(node.type) && unescapedSubstitution(node.text)) {
      throw parseError('unsupported $(..), ${..} or $[..] the shell parser reads as text');
    }
    if (node.type === 'test_command' && node.child(0)?.type === '[') refuseTestOperators(node);
    const c = STATEMENT_CONSTRUCTS[node.type];
    if (c !== undefined) this.construct(c);
    else if (!INERT.has(node.type)) throw parseError(`unsupported shell construct '${node.type}'`, { node: node.type });
    this.walk(node);
  }

  private pipeline(node: Node, topLevel: boolean): void {
    this.construct('pipeline');
    for (const child of node.children) {
      if (child === null) continue;
      if (child.type === '|') {
        if (topLevel) this.pipelines++;
      } else if (child.type === '|&') {
        this.construct('pipe_stderr');
      } else if (child.isNamed) {
        this.visit(child, false);
      } else {
        throw parseError(`unsupported token '${child.type}' in a pipeline`);
      }
    }
  }

  /** A statement's redirections belong to every command in it (`{ a; b; } > f`). */
  private redirected(node: Node, _topLevel: boolean): void {
    const from = this.commands.length;
    const frame: string[] = [];
    this.redirectFrames.push(frame);
    for (const child of node.children) {
      if (child === null) continue;
      if (!child.isNamed) throw parseError(`unsupported token '${child.type}' in a redirection`);
      this.visit(child, false);
    }
    this.redirectFrames.pop();
    if (frame.length > 0) for (const c of this.commands.slice(from)) c.redirects = [...(c.redirects ?? []), ...frame];
  }

  /**
   * A here-document. Why the check: bash expands `$(..)` and backticks in the body of an unquoted
   * delimiter, and tree-sitter-bash reads a body's backticks as text (`cat <<E` / `` `rm x` ``).
   * A quoted delimiter (`<<'E'`, `<<"E"`, `<<\E`) keeps the body literal.
   */
  private heredoc(node: Node): void {
    this.construct('heredoc');
    const start = node.children.find((c) => c !== null && c.type === 'heredoc_start');
    const quoted = start === undefined || /['"\\]/.test(start.text);
    const body = node.children.find((c) => c !== null && c.type === 'heredoc_body');
    if (!quoted && body !== undefined && body !== null && unescapedBacktick(body.text)) {
      throw parseError('unsupported backtick in a here-document');
    }
    for (const child of node.namedChildren) {
      if (child === null) continue;
      if (child.type === 'heredoc_body' && quoted) this.walkLiteral(child);
      else this.visit(child, false);
    }
  }

  /** A literal body: its commands are still collected (deny sees more, never less), its text is not checked. */
  private walkLiteral(node: Node): void {
    for (const child of node.namedChildren) {
      if (child === null) continue;
      if (child.type === 'heredoc_content') continue;
      this.visit(child, false);
    }
  }

  private fileRedirect(node: Node): void {
    const dest = node.childForFieldName('destination');
    const op = node.children.find((c) => c !== null && !c.isNamed)?.type ?? '';
    const dup = (op === '>&' || op === '<&') && dest !== null && /^(\d+|-)$/.test(dest.text);
    this.construct(dup ? 'redirection_dup' : 'redirection');
    // `>&3` writes where the line opened descriptor 3 (`exec 3>/dev/sda`): a file Warden does not see.
    if (dest !== null) this.redirectFrames.at(-1)?.push(...(!dup ? [redirectTarget(dest)] : /^\d+$/.test(dest.text) && Number(dest.text) > 2 ? [`/dev/fd/${dest.text}`] : []));
    this.walk(node);
  }

  private command(node: Node): void {
    const cmd: ShellCommand = { program: '', args: [], assignments: [] };
    const frame: string[] = [];
    this.redirectFrames.push(frame);
    let named = false;
    let prevEnd = -1;
    for (let i = 0; i < node.childCount; i++) {
      const child = node.child(i);
      if (child === null) continue;
      if (prevEnd >= 0 && !/^[ \t]*$/.test(gap(node, prevEnd, child.startIndex))) {
        throw parseError('unsupported text between words (line continuation?)');
      }
      prevEnd = child.endIndex;
      const field = node.fieldNameForChild(i);
      if (child.type === 'variable_assignment') {
        this.construct('assignment');
        cmd.assignments.push(this.assignment(child));
      } else if (field === 'name' && child.type === 'command_name') {
        const inner = child.namedChild(0);
        if (inner === null || child.namedChildCount !== 1) throw parseError('malformed command name');
        const w = decodeWord(inner, this);
        if (!w.plain) this.construct('variable_in_command_position');
        cmd.program = w.value;
        named = true;
      } else if (field === 'argument' && child.isNamed) {
        cmd.args.push(decodeWord(child, this).value);
      } else if (field === 'redirect' && child.isNamed) {
        this.visit(child, false);
      } else if (child.type === 'comment') {
        this.construct('comment');
      } else {
        throw parseError(`unsupported token '${child.type}' in a command`, { node: child.type });
      }
    }
    if (!named) throw parseError('command without a program name');
    this.redirectFrames.pop();
    if (frame.length > 0) cmd.redirects = frame;
    this.commands.push(cmd);
  }

  /**
   * `export|declare|typeset|local|readonly WORD...`: a command of that builtin, each
   * `NAME=value` as one word. Why a command: the variables it sets reach later commands, so a
   * deny rule must see them (deny-runs.ts).
   */
  private declaration(node: Node): void {
    this.construct('declaration');
    const cmd: ShellCommand = { program: node.child(0)?.type ?? '', args: [], assignments: [] };
    for (const child of node.namedChildren) {
      if (child === null) continue;
      if (child.type === 'variable_assignment') {
        this.construct('assignment');
        cmd.args.push(this.assignment(child));
      } else if (child.type === 'variable_name') {
        cmd.args.push(child.text);
      } else if (child.type === 'comment') {
        this.construct('comment');
      } else {
        cmd.args.push(decodeWord(child, this).value);
      }
    }
    if (!/^[a-z]+$/.test(cmd.program)) throw parseError('malformed declaration');
    this.commands.push(cmd);
  }

  /**
   * Assignments that stand alone (`A=1; B=2 C=3`), and so set shell variables for the rest of
   * the line: a command without a program (see variableWrite).
   */
  private bareAssignments(node: Node): void {
    this.construct('assignment');
    const nodes = node.type === 'variable_assignment' ? [node] : node.namedChildren;
    const assignments: string[] = [];
    for (const child of nodes) {
      if (child === null) continue;
      if (child.type !== 'variable_assignment') throw parseError(`unsupported token '${child.type}' among assignments`);
      assignments.push(this.assignment(child));
    }
    this.variableWrite(assignments);
  }

  /** `for NAME in WORDS`: NAME is set to each word in turn, as if assigned. */
  private forLoop(node: Node): void {
    this.construct('loop');
    const name = node.childForFieldName('variable')?.text ?? '';
    const rest: Node[] = [];
    const assignments: string[] = [];
    for (let i = 0; i < node.childCount; i++) {
      const child = node.child(i);
      if (child === null || !child.isNamed) continue;
      const field = node.fieldNameForChild(i);
      if (field === 'value') assignments.push(`${name}=${decodeWord(child, this).value}`);
      else if (field !== 'variable') rest.push(child);
    }
    this.variableWrite(assignments);
    for (const child of rest) this.visit(child, false);
  }

  /** `${NAME=value}` and `${NAME:=value}` assign NAME; the value is kept as written, so it reads as computed. */
  private expansionAssignment(node: Node): void {
    const kids = node.children;
    const op = kids.findIndex((c) => c !== null && !c.isNamed && (c.type === '=' || c.type === ':='));
    const name = op > 0 ? kids[op - 1] : null;
    if (name !== null && name !== undefined && (name.type === 'variable_name' || name.type === 'subscript')) {
      this.variableWrite([`${name.text}=${node.text}`]);
    }
  }

  /**
   * Variables set outside a command's own prefix, recorded as a command without a program.
   * Why: a variable such as GIT_SSH_COMMAND set anywhere in the line can reach any later command
   * (exported, or already in the environment), so deny rules judge it wherever it is set.
   */
  private variableWrite(assignments: string[]): void {
    if (assignments.length > 0) this.commands.push({ program: '', args: [], assignments });
  }

  private assignment(node: Node): string {
    const name = node.childForFieldName('name');
    const value = node.childForFieldName('value');
    this.walk(node);
    const v = value === null ? '' : value.type === 'array' ? value.text : decodeWord(value, this).value;
    return `${name?.text ?? node.text}=${v}`;
  }
}

function gap(node: Node, from: number, to: number): string {
  // Indices are relative to the tree's source; slice via the node's own text.
  return node.text.slice(from - node.startIndex, to - node.startIndex);
}
