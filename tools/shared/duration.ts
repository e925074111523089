/**
 * A connection setting's duration (`500ms`, `5s`, `2m`), in milliseconds. Why one schema for
 * every family: a bare number was read as seconds (`statement_timeout: 5000` was 83 minutes) and
 * `0s` passed, which for PostgreSQL's statement_timeout turns the limit off. A unit is required
 * and zero is refused, as warden.yaml's own durations are.
 */
import { z } from 'zod';

const UNITS: Record<string, number> = { ms: 1, s: 1000, m: 60_000 };

/**
 * The schema: accepts `<digits>(ms|s|m)` above zero; refuses bare numbers with the spellings to
 * use. A string schema (not a union with numbers), so the published JSON Schema does not offer
 * integers as durations either.
 */
export const connectionDuration = z
  .string({ error: (iss) => (typeof iss.input === 'number' ? `a duration needs a unit: ${iss.input}ms, ${iss.input}s or ${iss.input}m (a bare number is ambiguous)` : 'expected a duration such as 500ms, 5s or 2m') })
  .regex(/^\d+(ms|s|m)$/, 'expected a duration such as 500ms, 5s or 2m')
  .refine((v) => !/^0+(ms|s|m)$/.test(v), 'a duration must be more than zero (zero would turn the limit off)')
  .transform((v) => {
    const m = /^(\d+)(ms|s|m)$/.exec(v)!;
    return Number(m[1]) * UNITS[m[2]!]!;
  });
