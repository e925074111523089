/**
 * The one path, as an explicit ordered list of named stages (the Fastify lifecycle idea).
 * Tests assert this order; the pipeline runs exactly these, in this order, for every tool.
 */
export const STAGES = [
  'authenticate',
  'validate',
  'parse',
  'decide',
  'approve',
  'record-intent',
  'execute',
  'mask',
  'record-outcome',
  'respond',
] as const;

/** A stage name. */
export type StageName = (typeof STAGES)[number];
