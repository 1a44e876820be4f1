import path from 'node:path'
import type { Command } from 'commander'
import { RagtuneError } from '../errors.js'
import { parseTargets } from '../train/train-config.js'
import type { TrainLoraOptions } from '../train/train-lora.js'
import { trainLora } from '../train/train-lora.js'
import { runPythonJob, type PythonJobConfig } from '../train/python/python-job.js'
import type { TrainEvent } from '../train/train-report.js'
import type { LoadedConfig } from '../config/load-config.js'
import { exportTrainSplit } from '../dataset/export-dataset.js'
import { addAdapter } from '../registry/adapter-registry.js'
import { generatorModelPath, openWorkspace } from '../workspace.js'
import { configFromCli, interruptSignal, intOption, printJson } from './common.js'
import { ProgressBar } from './progress-bar.js'
import { trainWithOpenAI, type OpenAITrainFlags } from './train-openai.js'

/** Every `ragtune train` flag: the ones the OpenAI backend reads too (OpenAITrainFlags), and the local trainers' own. */
interface TrainFlags extends Omit<OpenAITrainFlags, 'ignored'> {
  dataset: string
  base?: string
  backend: string
  rank?: number
  alpha?: string
  dropout?: string
  targets?: string
  lr?: string
  schedule?: string
  warmupRatio?: string
  gradAccum?: number
  maxLength?: number
  checkpointEvery?: number
  threads?: number
  kernels?: string
  hfModel?: string
  python?: string
}

function numberFlag(name: string, value: string | undefined): number | undefined {
  if (value === undefined) return undefined
  const n = Number(value)
  if (!Number.isFinite(n)) throw new RagtuneError('USAGE', `${name} expects a number, got "${value}"`)
  return n
}

/** The progress line: step, loss, tokens/s and ETA; plain lines in CI logs. */
export function trainProgress(quiet: boolean): { onEvent: (e: TrainEvent) => void; stop: () => void } {
  const bar = quiet ? null : new ProgressBar('training')
  return {
    onEvent: (e) => {
      if (quiet) return
      if (e.type === 'start') {
        process.stderr.write(`training ${e.examples} examples for ${e.totalSteps} steps on ${e.kernels} kernels (${e.threads} threads)` +
          `${e.startStep > 0 ? `, resuming at step ${e.startStep}` : ''}${e.skipped > 0 ? `; ${e.skipped} too long, left out` : ''}\n`)
      } else if (e.type === 'step') {
        bar?.update({ done: e.step, total: e.totalSteps, fields: [`epoch ${e.epoch}`, `loss ${e.loss.toFixed(4)}`, `${e.tokensPerSecond.toFixed(0)} tok/s`], etaSec: e.etaSeconds })
      } else if (e.type === 'log') {
        process.stderr.write(`${e.message}\n`)
      }
    },
    stop: () => bar?.stop(),
  }
}

export function registerTrain(program: Command): void {
  program
    .command('train')
    .description('train a LoRA adapter on a chat JSONL dataset (from `ragtune dataset build`), on the CPU or, with --backend python, on a GPU')
    .requiredOption('--dataset <file|dataset:ID>', 'JSONL: {"messages":[...]} (last message = the answer), {"instruction","input","output"} or {"prompt","completion"}; or dataset:<id> for the train split of a version `ragtune dataset build` stored')
    .option('--base <model.gguf>', 'base GGUF (f32, f16 or q8_0) — the same file that serves; default: generator.model from the config')
    .requiredOption('--out <dir>', 'output folder, e.g. adapters/support-v2: adapter.gguf, PEFT files, training-report.{json,md}')
    .option('--resume', 'continue an interrupted run in --out from its last checkpoint (same data and options)')
    .option('--backend <name>', 'native (ragtune\'s CPU trainer), python (transformers + peft job, for GPUs) or openai (OpenAI\'s fine-tuning platform)', 'native')
    .option('--rank <r>', 'LoRA rank (default 16)', intOption('--rank'))
    .option('--alpha <a>', 'LoRA alpha (default 32)')
    .option('--dropout <p>', 'LoRA dropout (default 0.05)')
    .option('--targets <list>', 'matmuls to adapt: q,k,v,o (default), any of gate,up,down, or all-linear')
    .option('--lr <rate>', 'peak learning rate (default 2e-4)')
    .option('--schedule <s>', 'cosine (default) or constant, after linear warmup')
    .option('--warmup-ratio <f>', 'fraction of steps spent warming up (default 0.03)')
    .option('--epochs <n>', 'passes over the data (default 3)', intOption('--epochs'))
    .option('--batch-size <n>', 'examples per micro-batch, packed without padding (default 4)', intOption('--batch-size'))
    .option('--grad-accum <n>', 'micro-batches per optimizer step (default 4)', intOption('--grad-accum'))
    .option('--max-length <n>', 'longest example in tokens; longer ones are reported and left out, never cut (default 2048)', intOption('--max-length'))
    .option('--seed <n>', 'seed for data order, dropout and LoRA init (default 42)')
    .option('--checkpoint-every <n>', 'save a resumable checkpoint every N steps (default 50)', intOption('--checkpoint-every'))
    .option('--threads <n>', 'kernel threads (default: one per core)', intOption('--threads'))
    .option('--kernels <k>', 'auto (default), native or js')
    .option('--json', 'print the training report as JSON')
    .option('--register', 'add the adapter to the registry as a candidate named after --out (then: ragtune eval run / adapter promote)')
    .option('--hf-model <id|dir>', 'python backend: the Hugging Face model (id or local folder) the base GGUF was converted from')
    .option('--python <path>', 'python backend: interpreter with torch, transformers and peft (default python3)')
    .option('--openai-model <id>', 'openai backend: the model to fine-tune (default gpt-4o-mini-2024-07-18); key from generator.apiKeyEnv')
    .option('--openai-base-url <url>', 'openai backend: API base URL (default https://api.openai.com/v1)')
    .option('--lr-multiplier <x>', 'openai backend: learning-rate multiplier (default: OpenAI\'s "auto")')
    .option('--suffix <s>', 'openai backend: up to 64 characters added to the fine-tuned model\'s name')
    .option('--poll-seconds <s>', 'openai backend: how often the job is polled (default 15)')
    .addHelpText('after', `
Loss is computed on the answer tokens only: the prompt, with its retrieved sources, is rendered by
the model's own chat template exactly as at inference and masked. Ctrl-C saves a checkpoint; a
killed run continues with --resume and reaches the same weights as an uninterrupted one.`)
    .action(async (flags: TrainFlags, cmd: Command) => {
      const loaded = await configFromCli(cmd)
      const dataDir = path.resolve(loaded.baseDir, loaded.config.dataDir)
      if (flags.backend === 'openai') {
        const ignored = (['base', 'rank', 'alpha', 'dropout', 'targets', 'lr', 'schedule', 'warmupRatio', 'maxLength', 'checkpointEvery', 'threads', 'kernels', 'hfModel', 'python'] as const).filter((k) => flags[k] !== undefined).map((k) => `--${k.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}`)
        const data = await resolveDataset(loaded, flags.dataset, path.resolve(flags.out))
        const progress = trainProgress(!!flags.json)
        try {
          await trainWithOpenAI(loaded, { ...flags, ignored }, data, progress, interruptSignal())
        } finally {
          progress.stop()
        }
        return
      }
      const base = flags.base ? path.resolve(flags.base) : await generatorModelPath(loaded, dataDir)
      if (flags.backend === 'python') {
        await trainWithPython(loaded, flags, base)
        return
      }
      if (flags.backend !== 'native') throw new RagtuneError('USAGE', `--backend expects native, python or openai, got "${flags.backend}"`)
      const kernels = flags.kernels as TrainLoraOptions['kernels']
      if (kernels !== undefined && !['auto', 'native', 'js'].includes(kernels)) throw new RagtuneError('USAGE', `--kernels expects auto, native or js, got "${kernels}"`)
      const schedule = flags.schedule as TrainLoraOptions['schedule']
      const data = await resolveDataset(loaded, flags.dataset, path.resolve(flags.out))
      const progress = trainProgress(!!flags.json)
      try {
        const result = await trainLora({
          dataset: data.file,
          base,
          out: path.resolve(flags.out),
          resume: !!flags.resume,
          rank: flags.rank,
          alpha: numberFlag('--alpha', flags.alpha),
          dropout: numberFlag('--dropout', flags.dropout),
          ...(flags.targets ? { targets: parseTargets(flags.targets) } : {}),
          lr: numberFlag('--lr', flags.lr),
          schedule,
          warmupRatio: numberFlag('--warmup-ratio', flags.warmupRatio),
          epochs: flags.epochs,
          batchSize: flags.batchSize,
          gradAccum: flags.gradAccum,
          maxLength: flags.maxLength,
          seed: numberFlag('--seed', flags.seed),
          checkpointEvery: flags.checkpointEvery,
          ...(flags.threads ? { threads: flags.threads } : {}),
          ...(kernels ? { kernels } : {}),
          signal: interruptSignal(),
          onEvent: progress.onEvent,
        } as TrainLoraOptions)
        progress.stop()
        const registered = flags.register ? await registerTrained(loaded, { out: flags.out, adapterPath: result.adapterPath, base, datasetVersion: data.version, config: result.report.config }) : null
        if (flags.json) printJson({ ...result.report, registered })
        else {
          if (registered) process.stdout.write(`registered as candidate ${registered}\n`)
          const r = result.report
          process.stdout.write(`adapter written to ${result.adapterPath}\nloss ${r.losses[0]?.toFixed(4)} → ${r.losses.at(-1)?.toFixed(4)} over ${r.steps} steps, ` +
            `${r.tokensPerSecond.toFixed(0)} tokens/s, peak RSS ${(r.peakRssBytes / 2 ** 20).toFixed(0)} MiB\nreport: ${result.reportPath}\n`)
          for (const w of r.warnings) process.stdout.write(`warning: ${w}\n`)
        }
      } finally {
        progress.stop()
      }
    })
}

/**
 * The GPU path: a transformers + peft job in the user's Python, its JSON-lines progress in the same
 * bar, then the PEFT adapter converted to GGUF LoRA (checked against the base GGUF that serves).
 */
async function trainWithPython(loaded: LoadedConfig, flags: TrainFlags, base: string): Promise<void> {
  if (!flags.hfModel) {
    throw new RagtuneError('USAGE', '--backend python needs --hf-model: the Hugging Face model (id or folder) that the base GGUF was converted from', {
      hint: 'e.g. --hf-model mistralai/Mistral-7B-Instruct-v0.3 (the job trains on those weights; the adapter is converted for --base)',
    })
  }
  const data = await resolveDataset(loaded, flags.dataset, path.resolve(flags.out))
  const progress = trainProgress(!!flags.json)
  for (const flag of ['threads', 'kernels'] as const) {
    // On stderr even with --json: a flag that does nothing must not pass silently.
    if (flags[flag] !== undefined) process.stderr.write(`warning: --${flag} applies to ragtune's CPU kernels, not to --backend python; ignored\n`)
  }
  let total = 0
  try {
    const config: PythonJobConfig = {
      baseModel: flags.hfModel,
      dataset: data.file,
      outputDir: path.resolve(flags.out),
      ...(flags.targets ? { targets: parseTargets(flags.targets) } : {}),
      ...(flags.rank ? { rank: flags.rank } : {}),
      ...(flags.alpha ? { alpha: numberFlag('--alpha', flags.alpha) } : {}),
      ...(flags.dropout ? { dropout: numberFlag('--dropout', flags.dropout) } : {}),
      ...(flags.lr ? { learningRate: numberFlag('--lr', flags.lr) } : {}),
      ...(flags.schedule ? { schedule: flags.schedule as 'cosine' | 'constant' } : {}),
      ...(flags.warmupRatio ? { warmupRatio: numberFlag('--warmup-ratio', flags.warmupRatio) } : {}),
      ...(flags.epochs ? { epochs: flags.epochs } : {}),
      ...(flags.batchSize ? { batchSize: flags.batchSize } : {}),
      ...(flags.gradAccum ? { gradAccum: flags.gradAccum } : {}),
      ...(flags.maxLength ? { maxLength: flags.maxLength } : {}),
      ...(flags.seed ? { seed: numberFlag('--seed', flags.seed) } : {}),
      ...(flags.checkpointEvery ? { checkpointSteps: flags.checkpointEvery } : {}),
      resume: !!flags.resume,
    }
    const result = await runPythonJob({
      config,
      ...(flags.python ? { python: flags.python } : {}),
      base,
      signal: interruptSignal(),
      onLog: (line) => progress.onEvent({ type: 'log', message: line }),
      onEvent: (e) => {
        if (e.event === 'start') total = Number(e.totalSteps ?? 0)
        if (e.event === 'step') {
          progress.onEvent({
            type: 'step', step: Number(e.step), totalSteps: Number(e.totalSteps ?? total), epoch: Number(e.epoch ?? 1), loss: Number(e.loss), lr: Number(e.lr ?? 0),
            gradNorm: 0, tokensPerSecond: Number(e.tokensPerSecond ?? 0), etaSeconds: Number(e.etaSeconds ?? 0),
          })
        }
      },
    })
    progress.stop()
    const registered = flags.register ? await registerTrained(loaded, { out: flags.out, adapterPath: result.gguf.path, base, datasetVersion: data.version, config }) : null
    if (flags.json) printJson({ ...result, registered })
    else {
      if (registered) process.stdout.write(`registered as candidate ${registered}\n`)
      process.stdout.write(`adapter written to ${result.gguf.path} (PEFT files in ${result.adapterDir}); ${result.steps} steps, final loss ${result.finalLoss ?? '-'}\n`)
    }
  } finally {
    progress.stop()
  }
}

/** A file path as is; `dataset:<id>` exports that stored version's train split (chat JSONL) into `<out>/dataset`. */
async function resolveDataset(loaded: LoadedConfig, ref: string, out: string): Promise<{ file: string; version: string | null }> {
  if (!ref.startsWith('dataset:')) return { file: path.resolve(ref), version: null }
  const id = ref.slice('dataset:'.length)
  const ws = await openWorkspace(loaded, { embedder: false })
  try {
    return { file: await exportTrainSplit(ws.store, id, path.join(out, 'dataset')), version: id }
  } finally {
    await ws.close()
  }
}

/** Adds the trained adapter to the registry as a candidate, with its lineage. */
async function registerTrained(loaded: LoadedConfig, o: { out: string; adapterPath: string; base: string; datasetVersion: string | null; config: unknown }): Promise<string | null> {
  const name = path.basename(path.resolve(o.out))
  const ws = await openWorkspace(loaded, { embedder: false }).catch((cause: unknown) => {
    throw new RagtuneError('REGISTER_FAILED', `the adapter was written to ${o.adapterPath}, but the registry could not be opened: ${(cause as Error).message}`, {
      cause,
      hint: `register it later with \`ragtune adapter add ${name} ${o.adapterPath}\` from your ragtune project folder`,
    })
  })
  try {
    const record = await addAdapter(ws.store, {
      name,
      file: o.adapterPath,
      baseModelPath: o.base,
      ...(o.datasetVersion ? { datasetVersion: o.datasetVersion } : {}),
      trainingConfig: o.config as Record<string, unknown>,
    })
    return record.id
  } finally {
    await ws.close()
  }
}
