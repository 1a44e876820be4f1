import { Ajv, type ErrorObject, type ValidateFunction } from 'ajv'
import { RagtuneError } from '../errors.js'

// addUsedSchema false: a client's `$id` must neither collide with nor serve another client's schema.
const ajv = new Ajv({ allErrors: true, strict: false, addUsedSchema: false })
/** Compiled validators by schema text, newest last; bounded, since servers get schemas from clients. */
const cache = new Map<string, ValidateFunction>()
const CACHE_LIMIT = 64

export type StructuredCheck = { ok: true; value: unknown } | { ok: false; errors: string[] }

/** Compiles (once per distinct schema, LRU-bounded) and applies a JSON Schema to a model's text output. */
export function checkStructured(text: string, schema: Record<string, unknown>): StructuredCheck {
  let key: string
  try {
    key = JSON.stringify(schema)
  } catch (err) {
    // A client's schema nested tens of thousands deep overflows the stack: a bad request, not a crash.
    throw new RagtuneError('SCHEMA_INVALID', `the answer schema cannot be read: ${(err as Error).message}`, { hint: 'send a JSON Schema nested less deeply' })
  }
  let validate = cache.get(key)
  if (validate) cache.delete(key)
  else {
    try {
      validate = ajv.compile(schema)
    } catch (err) {
      throw new RagtuneError('SCHEMA_INVALID', `the answer schema is not a valid JSON Schema: ${(err as Error).message}`, { hint: 'fix answer.schema' })
    } finally {
      ajv.removeSchema(schema) // Ajv keeps every compiled schema object otherwise: a leak in a server
    }
    if (cache.size >= CACHE_LIMIT) cache.delete(cache.keys().next().value!)
  }
  cache.set(key, validate)
  let value: unknown
  try {
    value = JSON.parse(stripFence(text))
  } catch (err) {
    return { ok: false, errors: [`not JSON: ${(err as Error).message}`] }
  }
  if (validate(value)) return { ok: true, value }
  return { ok: false, errors: (validate.errors ?? []).map(describeError) }
}

function describeError(e: ErrorObject): string {
  return `${e.instancePath || '(root)'} ${e.message ?? 'is invalid'}`
}

/** Remote models often wrap JSON in a ```json fence even when told not to. */
function stripFence(text: string): string {
  const m = /^\s*```(?:json)?\s*\n([\s\S]*?)\n\s*```\s*$/.exec(text)
  return m ? m[1]! : text
}

/** The follow-up turn of the single repair retry: what was wrong, and what to send instead. */
export function repairMessage(errors: string[]): string {
  return `Your reply did not match the required JSON Schema: ${errors.slice(0, 5).join('; ')}. Reply again with only the corrected JSON.`
}
