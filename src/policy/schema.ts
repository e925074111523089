/**
 * The policy file schema. Generic keys (id, effect, who, tool, on, approval, reason) live
 * here; condition blocks (`sql:`, `shell:`, `kubernetes:`) come from the tool families, so a
 * new protocol adds its own block without touching this file.
 */
import { z } from 'zod';
import type { ConditionSpec } from '../tool-api.js';
import { callLimitsSchema, duration as durationSchema } from '../config/schema-parts.js';
import { columnNameProblem } from './sql-names.js';

const nameList = z.union([z.string().min(1), z.array(z.string().min(1)).min(1)]).transform((v) => (Array.isArray(v) ? v : [v]));

const whoFields = {
  subjects: z.array(z.string().min(1)).optional(),
  groups: z.array(z.string().min(1)).optional(),
  claims: z.record(z.string(), z.union([z.string(), z.array(z.string())])).optional(),
};

/**
 * `who:` — subjects and/or groups, narrowed by claims and by `actors:` (the agents of an RFC 8693
 * `act` chain: on an allow every actor must be listed, on a deny any one; policy/who.ts);
 * omitted means anyone.
 */
export const whoSchema = z
  .object({ ...whoFields, actors: z.array(z.string().min(1)).optional() })
  .strict()
  .superRefine(whoNamesSomeone);

/** `approval.reviewers:` — a who without `actors:`: reviewers act directly (an agent acting for one approves nothing). */
export const reviewersSchema = z.object(whoFields).strict().superRefine(whoNamesSomeone);

/**
 * A `who:` must name somebody. Why: matching reads an empty `groups: []` or `who: {}` as "no
 * restriction", so an allow with a list emptied by a template granted every principal (and lint
 * did not warn about an empty `claims: {}`), while an empty claim list matched nobody and left a
 * deny dead. Omitting `who:` is the one way to say "anyone".
 */
function whoNamesSomeone(w: { subjects?: string[]; groups?: string[]; claims?: Record<string, string | string[]>; actors?: string[] }, ctx: z.RefinementCtx): void {
  const nobody = 'an empty list names nobody (omit who: to mean anyone)';
  if (w.subjects && !w.subjects.length) ctx.addIssue({ code: 'custom', path: ['subjects'], message: nobody });
  if (w.groups && !w.groups.length) ctx.addIssue({ code: 'custom', path: ['groups'], message: nobody });
  if (w.actors && !w.actors.length) ctx.addIssue({ code: 'custom', path: ['actors'], message: 'an empty list of actors names no agent (omit actors: to leave agents unrestricted)' });
  if (w.claims && !Object.keys(w.claims).length) ctx.addIssue({ code: 'custom', path: ['claims'], message: 'an empty claims map narrows nothing (omit it, or name claims)' });
  for (const [k, v] of Object.entries(w.claims ?? {})) if (Array.isArray(v) && !v.length) ctx.addIssue({ code: 'custom', path: ['claims', k], message: 'an empty list of values is matched by no token' });
  if (!w.subjects && !w.groups && !w.claims && !w.actors) ctx.addIssue({ code: 'custom', message: 'who: names nobody (give subjects, groups, claims or actors; omit who: to mean anyone)' });
}

/** `approval:` — a human gate attached to an allow. */
export const approvalSchema = z
  .object({
    reviewers: reviewersSchema.optional(),
    approvals: z.number().int().min(1).max(10).default(1),
    expires: durationSchema.prefault('30m'),
    wait: durationSchema.prefault('1m'),
    confirm: z
      .enum(['requester'])
      .optional()
      .describe('Ask the requester to confirm the call through MCP elicitation (form mode); a 2026-07-28 per-request client cannot be asked and is refused (WARDEN_CONFIRMATION_UNAVAILABLE). With `reviewers`, the confirmation is used together with their approvals, or voided when they refuse'),
    /**
     * After a reviewer denies a call, how long the same requester's same call is refused before it
     * may be asked again (0s: no cooldown); unset: DEFAULT_DENY_COOLDOWN_MS (approvals/cooldown.ts).
     * Optional rather than defaulted so decisions built in code need not name it.
     */
    deny_cooldown: durationSchema.optional(),
    /** Webhook fired on new requests and decisions: a URL, or env:NAME / file:/path when the URL holds a token. */
    notify: z
      .object({
        webhook: z.string().regex(/^(https?:\/\/\S+|env:[A-Za-z_][A-Za-z0-9_]*|file:\S+)$/, 'expected an http(s) URL or a secret reference (env:NAME, file:/path)'),
        format: z.enum(['json', 'slack']).default('json'),
        secret: z
          .string()
          .regex(/^(env:[A-Za-z_][A-Za-z0-9_]*|file:\S+)$/, 'expected a secret reference (env:NAME, file:/path), never the secret itself')
          .optional()
          .describe('Sign every notice with this secret (Standard Webhooks headers webhook-id, webhook-timestamp, webhook-signature: v1, HMAC-SHA256; a whsec_ secret is base64). A secret reference only; when it cannot be resolved, nothing is sent'),
      })
      .strict()
      .optional(),
  })
  .strict();

/** Shape of a custom detector name; exported so the loader checks a pattern only under a valid name. */
export const CUSTOM_DETECTOR_NAME = /^[a-z][a-z0-9_-]*$/;

const COLUMN_SHAPE = /^("?[A-Za-z_][\w$]*"?\.){1,2}"?[A-Za-z_][\w$]*"?$/;

/** `masking:` section of a policy file. */
export const maskingSchema = z
  .object({
    columns: z
      .array(
        z
          .object({
            // The pattern (also the JSON Schema's) gives the shape; the refinement applies the
            // identifier rules to a name of that shape (balanced quotes; sql-names.ts).
            column: z.string().regex(COLUMN_SHAPE, 'expected [schema.]table.column').superRefine((name, ctx) => {
              const problem = COLUMN_SHAPE.test(name) ? columnNameProblem(name) : null;
              if (problem) ctx.addIssue({ code: 'custom', message: problem });
            }),
            with: z.string().default('redact'),
          })
          .strict(),
      )
      .default([]),
    detectors: z.array(z.string()).default([]),
    custom: z.array(z.object({ name: z.string().regex(CUSTOM_DETECTOR_NAME), pattern: z.string().min(1) }).strict()).default([]),
    on_derived: z.enum(['deny', 'mask']).default('deny'),
  })
  .strict();

/** Build the strict schema of one policy file, including the families' condition blocks. */
export function policyFileSchema(conditions: ConditionSpec[]) {
  const condShape: Record<string, z.ZodType> = {};
  for (const c of conditions) condShape[c.key] = c.schema.optional();
  const rule = z
    .object({
      id: z.string().regex(/^[A-Za-z0-9_.:-]+$/, 'rule ids use letters, digits, _ . : -'),
      effect: z.enum(['allow', 'deny']),
      who: whoSchema.optional(),
      tool: nameList.optional(),
      on: nameList.optional(),
      reason: z.string().optional(),
      description: z.string().optional(),
      approval: approvalSchema.optional(),
      limits: callLimitsSchema.optional(),
      ...condShape,
    })
    .strict()
    .superRefine((r, ctx) => {
      // A deny cannot be approved or rate-limited: an admin who wrote "deny unless approved" must learn it at load.
      for (const key of ['approval', 'limits'] as const) {
        if (r.effect === 'deny' && r[key] !== undefined) ctx.addIssue({ code: 'custom', path: [key], message: `${key}: applies to allow rules only (a deny rule always denies)` });
      }
    });
  return z
    .object({
      $schema: z.string().optional(),
      // Only format 1 exists: a file written for a later one must not load under these rules.
      version: z.literal(1, { error: 'only version 1 of the policy format exists (a file written for another would be read with other rules): write version: 1 or leave it out' }).optional(),
      masking: maskingSchema.optional(),
      rules: z.array(rule).default([]),
    })
    .strict();
}

/** Parsed types. */
export type Who = z.infer<typeof whoSchema>;
export type ApprovalSpec = z.infer<typeof approvalSchema>;
export type MaskingSpec = z.infer<typeof maskingSchema>;
/** A rule's `limits:` block (calls per minute, concurrency, rows/bytes per hour), counted per principal. */
export type CallLimits = z.infer<typeof callLimitsSchema>;
