/**
 * Red-team finding: awk's ENVIRON is the remote environment, as jq's `env` is. A grant of awk
 * (also with `paths:`, which keep it from reading /proc/self/environ) printed every variable
 * (`awk 'BEGIN{for(k in ENVIRON) print k, ENVIRON[k]}'`), a database URL or a token among
 * them, in any format masking does not know. Now an awk program naming ENVIRON is refused unless
 * the grant says `environment: true`, as for jq.
 */
import assert from 'node:assert/strict';
import { before, test } from 'node:test';
import { initShellParser, shellCondition } from '../../../tools/shared/shell/index.js';
import { shellVerdicts } from '../../support/shell-verdicts.js';

const { refuse, allow } = shellVerdicts({ pipelines: true, programs: { awk: { paths: ['/var/log/app'], rewrites: true }, gawk: { rewrites: true }, mawk: { rewrites: true }, echo: {} } });
const ENV = /reads the environment \(ENVIRON\), which may hold secrets; this grant does not say environment: true/;

before(async () => {
  await initShellParser();
});

test('awk programs that read ENVIRON are refused unless the grant says environment: true', () => {
  const reads = [
    "awk 'BEGIN{for(k in ENVIRON) print k, ENVIRON[k]}'", "awk 'BEGIN{print ENVIRON[\"DATABASE_URL\"]}'", "gawk -e 'BEGIN{print ENVIRON[\"X\"]}'",
    "mawk '{print ENVIRON[$1]}' /var/log/app/a", "echo x | gawk --source='{print ENVIRON[\"TOKEN\"]}'", "awk 'BEGIN{x = ENV\\\nIRON[\"A\"]}'",
  ];
  refuse(reads, ENV);
  allow(["awk '{print $1}' /var/log/app/a", "awk '{print \"ENVIRONMENT\"}' /var/log/app/a", "gawk -F: '{print $2}' /var/log/app/a"]);
  const granted = { pipelines: true, programs: { awk: { environment: true, rewrites: true }, gawk: { environment: true, rewrites: true }, mawk: { environment: true, rewrites: true }, echo: {} } };
  allow(reads.filter((c) => !c.includes('ENV\\')), granted);
  // Only an allow takes it.
  assert.throws(() => shellCondition.compile({ programs: { awk: { environment: true } } }, { id: 'x', effect: 'deny' }), /environment: is for/);
});
