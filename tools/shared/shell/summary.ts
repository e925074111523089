/** One-line human rendering of shell facts for transcripts, explain and the UI. */
import type { ShellCommand, ShellConstruct } from './types.js';

const MAX = 200;

/** Why bounded: summaries land in every transcript row and list view. */
export function summarize(commands: ShellCommand[], pipelines: number, constructs: ShellConstruct[]): string {
  const line = commands.map((c) => (c.program === '' ? c.assignments : [c.program, ...c.args]).join(' ')).join(pipelines > 0 ? ' | ' : ' ; ');
  const extra = constructs.filter((c) => c !== 'pipeline');
  const text = extra.length > 0 ? `${line} [${extra.join(', ')}]` : line;
  return text.length > MAX ? `${text.slice(0, MAX - 1)}…` : text;
}
