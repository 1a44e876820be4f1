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
import { registerInit } from './init.js'
import { registerKeys } from './keys-command.js'
import { registerLabels } from './labels-command.js'
import { registerLogs } from './logs-command.js'
import { registerSearch } from './search-command.js'
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
    if (err instanceof RagtuneError) {
      process.stderr.write(`error [${err.code}]: ${err.message}\n`)
      return err.code === 'USAGE' ? 2 : err.code === 'ABORTED' ? 130 : 1
    }
    throw err
  }
}
