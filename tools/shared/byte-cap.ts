/**
 * The `max_bytes` / `max_output_bytes` key of a connection: how much one call may return, 1 KiB
 * to 64 MiB, 1 MiB by default. Why shared: every family caps its answers the same way (and the
 * HTTP stream bound reads these keys by name: src/server/http-stream-buffer.ts).
 */
import { z } from 'zod';

/** The byte cap's schema, described for the family's own meaning. */
export function byteCap(description: string) {
  return z
    .number()
    .int()
    .min(1024)
    .max(64 * 1024 * 1024)
    .default(1024 * 1024)
    .describe(description);
}
