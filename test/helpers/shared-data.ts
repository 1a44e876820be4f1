import { existsSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'

/**
 * The workplace's public datasets (`shared/data`: pubmedqa, ifeval, bfcl), which sit beside the
 * repository here and in CI, but not beside a clone made elsewhere. `RAGTUNE_SHARED_DATA` overrides;
 * tests that need it skip, saying why, when it is absent.
 */
export function sharedDataDir(): string | null {
  const candidates = [process.env.RAGTUNE_SHARED_DATA]
  let dir = dirname(fileURLToPath(import.meta.url))
  for (let i = 0; i < 6; i++, dir = dirname(dir)) candidates.push(join(dir, 'shared', 'data'))
  candidates.push('/work/shared/data')
  return candidates.find((c): c is string => !!c && existsSync(join(c, 'pubmedqa'))) ?? null
}

export const SHARED_DATA_MISSING = 'shared/data (the workplace datasets) is not beside this checkout; set RAGTUNE_SHARED_DATA'
