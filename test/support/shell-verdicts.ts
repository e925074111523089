/**
 * An allow rule's `shell:` block judged on command lines, for the shell condition's unit tests:
 * `verdict` (matched and why), `refuse` (each command refused, its reason matching) and `allow`
 * (each command matched). Call initShellParser() in a `before` first.
 */
import assert from 'node:assert/strict';
import { parseShell, shellCondition } from '../../tools/shared/shell/index.js';

const CALL = { tool: 'ssh_run', connection: 'web-1', args: {} };

/** The verdict helpers over `block` (each also takes another block for one case). */
export function shellVerdicts(block: unknown) {
  const verdict = (cmd: string, b: unknown = block) => shellCondition.compile(b, { id: 'a', effect: 'allow' })(parseShell(cmd), CALL);
  const refuse = (cmds: string[], why: RegExp, b: unknown = block): void => {
    for (const cmd of cmds) {
      const r = verdict(cmd, b);
      assert.equal(r.matched, false, `${cmd} must be refused`);
      assert.match(r.why, why, cmd);
    }
  };
  const allow = (cmds: string[], b: unknown = block): void => {
    for (const cmd of cmds) {
      const r = verdict(cmd, b);
      assert.equal(r.matched, true, `${cmd}: ${r.why}`);
    }
  };
  return { verdict, refuse, allow };
}
