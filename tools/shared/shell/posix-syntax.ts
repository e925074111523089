/**
 * Text a shell other than bash may run as written (`sh -c`, dash as `sh` or as a login shell,
 * ssh's remote command on a host whose shell Warden does not know): bash syntax a POSIX shell
 * splits into other words and commands is refused, since Warden's bash grammar would judge
 * commands that are not the ones that run.
 */
import type { Node } from 'web-tree-sitter';
import { parseError } from '../../../src/tool-api.js';

/**
 * Why each bash-only form is read apart by a POSIX shell (dash 0.5):
 * - `$'a\' ; cmd #'`: dash has no `$'..'`, so its quote ends at `\'` and `cmd` runs;
 * - `[[ a || cmd ]]`: `[[` is an ordinary word, so `||`, `|`, `;` and `&&` in it separate commands;
 * - `((cmd))`, `for ((..))`: `((` is two subshells, so the "arithmetic" runs as a command.
 */
const BASH_ONLY: Readonly<Record<string, (n: Node) => string | null>> = {
  ansi_c_string: () => "$'..' quoting, which a POSIX shell (dash) reads as '$' and a quote that ends elsewhere",
  test_command: (n) => (n.child(0)?.type === '[[' ? '[[ .. ]], which a POSIX shell (dash) reads as a command whose ||, | and ; run others' : null),
  compound_statement: (n) => (n.child(0)?.type === '((' ? '(( .. )), which a POSIX shell (dash) reads as subshells that run a command' : null),
  c_style_for_statement: () => 'for (( .. )), which a POSIX shell (dash) reads as subshells that run a command',
};

/** Throw WARDEN_PARSE at the first bash-only form under `root`. Why only for nested text: the line Warden rebuilds sends quoted words, which every POSIX shell reads alike. */
export function refuseBashOnly(root: Node): void {
  for (const node of root.descendantsOfType(Object.keys(BASH_ONLY))) {
    const why = BASH_ONLY[node.type]?.(node) ?? null;
    if (why !== null) throw parseError(`unsupported ${why}, in text a shell other than bash may run`);
  }
}
