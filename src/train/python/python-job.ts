import { mkdir, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { RagtuneError } from '../../errors.js'
import type { WrittenGguf } from '../../models/tiny-llama/gguf-writer.js'
import type { LinearName } from '../../models/tiny-llama/tiny-llama.js'
import { DEFAULT_LORA_TARGETS } from '../../models/tiny-llama/tiny-lora.js'
import type { BaseShape } from '../adapter-io/convert.js'
import { convertPeftToGguf, ggufArchitectureOf } from '../adapter-io/convert.js'
import { hfTargetName } from '../adapter-io/peft.js'
import type { JsonLineMessage } from './json-lines-process.js'
import { runJsonLinesProcess } from './json-lines-process.js'

/**
 * Runs LoRA/QLoRA training on a GPU through Python (transformers + peft + bitsandbytes: the
 * field's standard for 7B models, which the CPU trainer cannot reach) and brings the result back
 * as a GGUF LoRA for node-llama-cpp, with the PEFT folder kept next to it for vLLM or the hub.
 */

/**
 * The script, resolved from the package root: `src/train/python/job-script.py` ships in the npm
 * package ("files"), and both this module and its build output (dist/train/python/) sit three
 * folders below that root.
 */
export const JOB_SCRIPT_PATH = fileURLToPath(new URL('../../../src/train/python/job-script.py', import.meta.url))

export interface PythonJobConfig {
  /** Hugging Face model id (needs the hub) or a local folder with config.json, weights and tokenizer. */
  baseModel: string
  /** JSONL of {messages: [...]} chat records or {prompt, completion}; loss is on assistant answers only. */
  dataset: string
  /** Checkpoints, the PEFT adapter (`adapter/`), the job config and the GGUF go here. */
  outputDir: string
  /** Default q, k, v, o (the design's guide); all seven linear layers is the QLoRA paper's choice. */
  targets?: readonly LinearName[]
  rank?: number
  alpha?: number
  dropout?: number
  learningRate?: number
  /** Default: warmupRatio of the optimizer steps. */
  warmupSteps?: number
  /** Share of the optimizer steps spent warming up when warmupSteps is not given; default 0.03. */
  warmupRatio?: number
  schedule?: 'cosine' | 'constant'
  epochs?: number
  batchSize?: number
  gradAccum?: number
  maxLength?: number
  seed?: number
  checkpointSteps?: number
  /** Continue from the newest checkpoint in outputDir (same config and dataset) to the same result. */
  resume?: boolean
  /** 'auto' (default): 4-bit NF4 when CUDA and bitsandbytes are there; 'nf4' insists; 'none' never. */
  quantization?: 'auto' | 'nf4' | 'none'
}

/** The protocol's events; `model`-related fields arrive on `start`. */
export type PythonJobEvent = JsonLineMessage

export interface RunPythonJobOptions {
  config: PythonJobConfig
  /** Interpreter with torch, transformers and peft; default 'python3'. */
  python?: string
  signal?: AbortSignal
  onEvent?: (event: PythonJobEvent) => void
  onLog?: (line: string) => void
  /**
   * The base GGUF the adapter will be served with (checked to fit), or its shape. Default: the
   * architecture and head counts the job reports from the Hugging Face model's config.
   */
  base?: string | BaseShape
  /** Default `<outputDir>/adapter.gguf`. */
  ggufPath?: string
}

export interface PythonJobResult {
  /** The PEFT folder peft's save_pretrained wrote. */
  adapterDir: string
  gguf: WrittenGguf & { rank: number; alpha: number }
  steps: number
  finalLoss: number | null
  logTail: string[]
  warnings: string[]
}

/** The JSON the script reads: defaults filled in, targets as Hugging Face module names. */
export function jobScriptConfig(config: PythonJobConfig): Record<string, unknown> {
  const { targets = DEFAULT_LORA_TARGETS, ...rest } = config
  return { ...Object.fromEntries(Object.entries(rest).filter(([, v]) => v !== undefined)), targetModules: targets.map(hfTargetName) }
}

function baseFromStart(start: JsonLineMessage | undefined): BaseShape {
  const modelType = String(start?.modelType)
  const architecture = ggufArchitectureOf(modelType)
  if (!architecture) {
    throw new RagtuneError('UNSUPPORTED_ARCHITECTURE', `the trained model is of type ${JSON.stringify(modelType)}; ragtune converts LoRA adapters for llama, mistral, qwen2 and qwen3`, {
      details: { modelType },
      hint: 'pass base: { architecture, heads, kvHeads } (or the base GGUF) if llama.cpp converts this model like one of those, or use the PEFT folder directly',
    })
  }
  return { architecture, heads: Number(start?.heads), kvHeads: Number(start?.kvHeads) }
}

/**
 * Launches job-script.py, forwards its events, and converts the trained PEFT adapter to GGUF.
 * Throws TRAIN_JOB_FAILED with the job's error message and the tail of stderr when it fails,
 * PYTHON_NOT_FOUND when the interpreter does not start, and ABORTED when `signal` fires (the job gets
 * SIGTERM, then SIGKILL; its last checkpoint stays for `resume`).
 */
export async function runPythonJob(options: RunPythonJobOptions): Promise<PythonJobResult> {
  const { config, python = 'python3' } = options
  await mkdir(config.outputDir, { recursive: true })
  const configPath = join(config.outputDir, 'job-config.json')
  await writeFile(configPath, `${JSON.stringify(jobScriptConfig(config), null, 2)}\n`)
  let start: JsonLineMessage | undefined
  let done: JsonLineMessage | undefined
  let error: JsonLineMessage | undefined
  let finalLoss: number | null = null
  const run = await runJsonLinesProcess({
    command: python,
    args: [JOB_SCRIPT_PATH, configPath],
    env: { ...process.env, PYTHONUNBUFFERED: '1' },
    signal: options.signal,
    onLog: options.onLog,
    onMessage: (message) => {
      if (message.event === 'start') start = message
      else if (message.event === 'done') done = message
      else if (message.event === 'error') error = message
      else if (message.event === 'step' && typeof message.loss === 'number') finalLoss = message.loss
      options.onEvent?.(message)
    },
  }).catch((e: unknown) => {
    if (e instanceof RagtuneError && e.code === 'PROCESS_START_FAILED') {
      throw new RagtuneError('PYTHON_NOT_FOUND', `could not start the GPU training job with ${JSON.stringify(python)}: ${e.message}`, {
        details: { python },
        hint: 'install Python 3 with torch, transformers and peft, or pass its path as the python option',
        cause: e,
      })
    }
    throw e
  })
  if (run.code !== 0 || error || !done || typeof done.adapterDir !== 'string') {
    const why = error ? String(error.message) : run.code !== 0 ? `it exited with ${run.signal ?? `code ${run.code}`}` : 'it ended without a done event'
    throw new RagtuneError('TRAIN_JOB_FAILED', `the GPU training job failed: ${why}${run.stderrTail ? `\n--- stderr (tail) ---\n${run.stderrTail.trimEnd()}` : ''}`, {
      details: { python, configPath, code: run.code, signal: run.signal, stderrTail: run.stderrTail, logTail: run.logTail },
      hint: error?.type === 'JobError' ? 'see the message above' : `check the Python environment (checkPythonEnvironment('${python}')) and the job config at ${configPath}`,
    })
  }
  const adapterDir = done.adapterDir
  const gguf = await convertPeftToGguf({ peftDir: adapterDir, base: options.base ?? baseFromStart(start), out: options.ggufPath ?? join(config.outputDir, 'adapter.gguf') })
  const { warnings, ...written } = gguf
  return { adapterDir, gguf: written, steps: Number(done.steps ?? 0), finalLoss, logTail: run.logTail, warnings }
}
