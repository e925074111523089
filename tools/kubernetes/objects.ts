/** API objects as JSON: why one guard, every module that reads answers of the API server needs it. */

/** A JSON object as the API server sends it. */
export type Obj = Record<string, unknown>;

/** Whether a value is a JSON object (not null, not an array). */
export function isObj(v: unknown): v is Obj {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}
