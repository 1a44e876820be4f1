import { Command, CommanderError } from 'commander'
import { RagtuneError } from '../errors.js'
import { registerAdapter } from './adapter-command.js'
import { registerAnalyze } from './analyze-command.js'
import { registerAsk } from './ask-command.js'
import { registerDataset } from './dataset-command.js'
import { registerDemo } from './demo-command.js'
import { registerEval } from './eval-command.js'
import { registerFeedback } from './feedback-command.js'
import { registerIndex } from './index-command.js'
import { registerJobs } from './jobs-command.js'
import { registerInit } from './init.js'
import { registerKeys } from './keys-command.js'
import { registerLabels } from './labels-command.js'
import { registerLogs } from './logs-command.js'
import { registerSearch } from './search-command.js'
import { registerSchedule } from './schedule-command.js'
import { registerServe } from './serve-command.js'
import { registerStatus } from './status-command.js'
import { registerTrain } from './train-command.js'

/** Builds the command tree; exported so tests can inspect --help without spawning a process. */
export function buildProgram(): Command {
  const program = new Command('ragtune')
    .description('hybrid RAG + LoRA fine-tuning loop: index, retrieve, answer, log, analyze, train, evaluate, promote')
    .version('0.1.0')
    .option('-c, --config <file>', 'config file (default: ./ragtune.config.json when present)')
    .option('--data-dir <dir>', 'data folder (default: .ragtune)')
    .option('--offline', 'never touch the network; a missing model is an error that says how to get it')
    .showHelpAfterError('(run with --help for usage)')
    .exitOverride()
  registerInit(program)
  registerIndex(program)
  registerSearch(program)
  registerStatus(program)
  registerAsk(program)
  registerEval(program)
  registerDemo(program)
  registerLogs(program)
  registerFeedback(program)
  registerAnalyze(program)
  registerLabels(program)
  registerDataset(program)
  registerServe(program)
  registerKeys(program)
  registerAdapter(program)
  registerTrain(program)
  registerSchedule(program)
  registerJobs(program)
  return program
}

/** Runs the CLI and returns the exit code: 0 ok, 1 a failed command, 2 bad usage, 130 interrupted. */
export async function main(argv: string[]): Promise<number> {
  const program = buildProgram()
  try {
    await program.parseAsync(argv)
    return 0
  } catch (err) {
    if (err instanceof CommanderError) return err.exitCode === 0 ? 0 : 2
    const known = err instanceof RagtuneError ? err : storageError(err)
    if (known) {
      process.stderr.write(`error [${known.code}]: ${known.message}\n`)
      return known.code === 'USAGE' ? 2 : known.code === 'ABORTED' ? 130 : 1
    }
    throw err
  }
}

/**
 * A full disk or a read-only data folder can surface from any write (the store's lock, Postgres
 * extending a table, a generated model file). Those are the user's to fix, so they get a one-line
 * error with a hint instead of a stack trace; what was stored before stays as it was.
 */
export function storageError(err: unknown): RagtuneError | null {
  const e = err as { code?: unknown; path?: unknown; message?: unknown } | null
  const message = typeof e?.message === 'string' ? e.message.split('\n')[0]! : ''
  const where = typeof e?.path === 'string' && !message.includes(e.path) ? ` (${e.path})` : ''
  if (e?.code === 'ENOSPC' || e?.code === 'EDQUOT' || e?.code === '53100' || /no space left on device/i.test(message)) {
    return new RagtuneError('DISK_FULL', `expected room to write${where}, found the disk full: ${message}`, {
      hint: 'free space on that disk (or point --data-dir at another one) and run the command again; what was stored before is kept',
      cause: err,
    })
  }
  if (e?.code === 'EROFS') {
    return new RagtuneError('READ_ONLY_FILE_SYSTEM', `expected a writable data folder${where}, found a read-only file system: ${message}`, {
      hint: 'ragtune writes to its data folder even to read (the store takes a lock, Postgres keeps a log): remount it read-write, or point --data-dir at a writable copy',
      cause: err,
    })
  }
  if (e?.code === 'ENOTDIR' || (e?.code === 'EEXIST' && (e as { syscall?: unknown }).syscall === 'mkdir')) {
    return new RagtuneError('NOT_A_DIRECTORY', `expected a folder${where}, found a file in its place: ${message}`, {
      hint: 'the data folder (--data-dir, dataDir in the config) or a folder inside it is a file: move the file, or point --data-dir elsewhere',
      cause: err,
    })
  }
  if (e?.code === 'EACCES' || e?.code === 'EPERM') {
    return new RagtuneError('PERMISSION_DENIED', `expected access${where}, found it denied: ${message}`, {
      hint: 'check the owner and mode of that path; ragtune writes to its data folder even to read (the store takes a lock)',
      cause: err,
    })
  }
  return null
}
