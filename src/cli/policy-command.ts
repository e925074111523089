/**
 * `warden policy check`: validate warden.yaml and every policy file; print each problem as
 * FILE:LINE and exit non-zero on any error.
 */
import { families } from '../../tools/index.js';
import { loadServerConfig } from '../config/server-config.js';
import { ConfigError, formatProblem } from '../config/yaml-source.js';
import { compileForConfig } from '../server/runtime.js';
import { parseArgs, UsageError } from './args.js';

/** Run `warden policy SUBCOMMAND`. */
export async function runPolicyCommand(argv: string[]): Promise<number> {
  const a = parseArgs(argv, ['config=', 'json']);
  const [sub] = a.positionals;
  if (sub !== 'check') throw new UsageError(`unknown policy subcommand "${sub ?? ''}" (this build has: check)`);
  const configPath = String(a.flags.config ?? 'warden.yaml');
  try {
    const config = loadServerConfig(configPath, families);
    const policy = compileForConfig(config, families);
    const summary = { ok: true, config: config.file, files: policy.files, rules: policy.rules.length, policy_version: policy.version, problems: [] };
    if (a.flags.json) process.stdout.write(JSON.stringify(summary, null, 2) + '\n');
    else process.stdout.write(`ok: ${policy.rules.length} rules in ${policy.files.length} policy files (policy version ${policy.version})\n`);
    return 0;
  } catch (e) {
    if (!(e instanceof ConfigError)) throw e;
    if (a.flags.json) process.stdout.write(JSON.stringify({ ok: false, problems: e.problems }, null, 2) + '\n');
    for (const p of e.problems) process.stderr.write(formatProblem(p) + '\n');
    return 1;
  }
}
