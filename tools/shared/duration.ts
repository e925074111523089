/**
 * A connection setting's duration (`500ms`, `5s`, `2m`), in milliseconds. Why one schema for
 * every family: a bare number was read as seconds (`statement_timeout: 5000` was 83 minutes) and
 * `0s` passed, which for PostgreSQL's statement_timeout turns the limit off. A unit is required
 * and zero is refused, as warden.yaml's own durations are.
 */
import { z } from 'zod';

const UNITS: Record<string, number> = { ms: 1, s: 1000, m: 60_000 };

/** The schema: accepts `<digits>(ms|s|m)` above zero; refuses bare numbers with the spellings to use. */
export const connectionDuration = z
  .union([z.number(), z.string().regex(/^\d+(ms|s|m)$/, 'expected a duration such as 500ms, 5s or 2m')])
  .superRefine((v, ctx) => {
    if (typeof v === 'number') ctx.addIssue({ code: 'custom', message: `a duration needs a unit: ${v}ms, ${v}s or ${v}m (a bare number is ambiguous)` });
    else if (/^0+(ms|s|m)$/.test(v)) ctx.addIssue({ code: 'custom', message: 'a duration must be more than zero (zero would turn the limit off)' });
  })
  .transform((v) => {
    const m = /^(\d+)(ms|s|m)$/.exec(String(v));
    return m ? Number(m[1]) * UNITS[m[2]!]! : Number.NaN;
  });
