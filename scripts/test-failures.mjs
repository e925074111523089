// Collects the failing tests from node:test's TAP output as it passes through, so that
// scripts/test.mjs can repeat them after the totals: a CI log is often read from its tail,
// and a suite of thousands of tests puts a failure's own lines far above it.

const MAX_ERROR_LINES = 12;

/** A line-by-line reader of TAP; `lines()` gives the summary to print (empty when none failed). */
export function failureCollector() {
  const names = []; // names[depth]: the current `# Subtest:` at each depth
  const failures = [];
  let open = null; // the failure whose YAML block is being read
  let inError = false;
  return {
    push(line) {
      const depth = Math.floor((line.length - line.trimStart().length) / 4);
      const text = line.trim();
      const sub = /^# Subtest: (.*)$/.exec(text);
      if (sub) {
        names.length = depth;
        names[depth] = sub[1];
        return;
      }
      const notOk = /^not ok \d+ - (.*)$/.exec(text);
      if (notOk) {
        open = { path: [...names.slice(0, depth), notOk[1]].join(' > '), location: '', type: '', error: [] };
        inError = false;
        return;
      }
      if (!open) return;
      if (text === '...') {
        // a parent that failed only because a subtest did adds nothing to the summary
        if (open.type !== 'subtestsFailed') failures.push(open);
        open = null;
        return;
      }
      const field = /^(\w+): ?(.*)$/.exec(text);
      if (field && line.startsWith(' '.repeat(depth * 4 + 2) + field[1])) {
        inError = field[1] === 'error';
        if (field[1] === 'location') open.location = field[2].replace(/^'|'$/g, '');
        if (field[1] === 'failureType') open.type = field[2].replace(/^'|'$/g, '');
        if (inError && field[2] && field[2] !== '|-') open.error.push(field[2].replace(/^'(.*)'$/, '$1'));
        return;
      }
      if (inError && text && open.error.length < MAX_ERROR_LINES) open.error.push(text);
    },
    lines() {
      if (failures.length === 0) return [];
      const out = [`# ${failures.length} failing test(s), repeated from above:`];
      for (const f of failures) {
        out.push(`# FAILED: ${f.path}${f.location ? ` (${f.location})` : ''}${f.type ? ` [${f.type}]` : ''}`);
        for (const e of f.error) out.push(`#   ${e}`);
      }
      return out;
    },
  };
}
