// Preloaded by scripts/test.mjs into each test file's process (`node --test --import`): on exit
// it appends the file's wall time to $WARDEN_TEST_TIMES, so that the next run can start the
// slowest files first (scripts/test-order.mjs). Processes the tests spawn do not load it.
import { appendFileSync } from 'node:fs';

const out = process.env.WARDEN_TEST_TIMES;
const file = process.argv[1] ?? '';
if (out && file.endsWith('.test.js')) {
  process.on('exit', () => {
    try {
      appendFileSync(out, `${JSON.stringify({ file, ms: Math.round(performance.now()) })}\n`);
    } catch {
      // timing is a scheduling hint only: never fail a test file over it
    }
  });
}
