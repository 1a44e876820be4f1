import { z } from 'zod'
import { parseSince } from '../observe/since.js'
import { HttpError } from './http-error.js'

/** `?limit=` and other whole numbers arrive as text; zod coerces them and names the field when wrong. */
export const queryInt = (min: number, max: number) => z.coerce.number().int().min(min).max(max)

/**
 * A `since`/`until` query value read the way the CLI reads `--since` (an age like `14d` or an ISO
 * date), so the dashboard's filters mean what `ragtune logs --since` means. Bad input is a 400
 * naming the parameter.
 */
export function queryTime(value: string | undefined, param: string): Date | undefined {
  if (value === undefined || value.trim() === '') return undefined
  try {
    return parseSince(value)
  } catch (err) {
    throw new HttpError(400, 'invalid_value', `${param}: ${(err as Error).message.split('\n')[0]}`, param)
  }
}
