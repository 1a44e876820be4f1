import { readFile, rename, writeFile } from 'node:fs/promises'
import path from 'node:path'
import { RagtuneError } from '../../errors.js'

/**
 * What a run has done on OpenAI so far, kept in the out folder: the uploaded file and the job id.
 * `--resume` reads it to attach to the same job instead of paying for a second one; a crash between
 * upload and job creation reuses the upload.
 */
export interface OpenAIJobState {
  version: 1
  baseModel: string
  /** sha256 of the uploaded JSONL and OpenAI's file id once uploaded. */
  trainingFile: { sha256: string; fileId: string | null }
  jobId: string | null
  createdAt: string
}

export const STATE_FILE = 'openai-job.json'

export async function readJobState(outDir: string): Promise<OpenAIJobState | null> {
  const file = path.join(outDir, STATE_FILE)
  let text: string
  try {
    text = await readFile(file, 'utf8')
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null
    throw err
  }
  try {
    const state = JSON.parse(text) as OpenAIJobState
    if (state.version !== 1 || typeof state.baseModel !== 'string' || typeof state.trainingFile?.sha256 !== 'string') throw new Error('unexpected shape')
    return state
  } catch (cause) {
    throw new RagtuneError('TRAIN_STATE_INVALID', `${file} is not a ragtune OpenAI job state: ${(cause as Error).message}`, {
      details: { file },
      hint: 'restore it, or train into a new --out folder (the job id, if any, is in the OpenAI dashboard)',
      cause,
    })
  }
}

/** Written to a temporary file and renamed, so a crash never leaves half a state (and a lost job id). */
export async function writeJobState(outDir: string, state: OpenAIJobState): Promise<void> {
  const file = path.join(outDir, STATE_FILE)
  await writeFile(`${file}.tmp`, JSON.stringify(state, null, 2) + '\n')
  await rename(`${file}.tmp`, file)
}
