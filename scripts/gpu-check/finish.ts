/**
 * The GPU check, back on this machine: converts the PEFT adapter the device trained with ragtune's
 * own convertPeftToGguf, serves base + adapter in node-llama-cpp and compares its logits with the
 * device's transformers + peft logits for the same token sequences; optionally registers the adapter
 * in the demo workspace and evaluates it on the held-out split. Prints a markdown table and writes
 * the whole record as JSON.
 *
 *   npx tsx scripts/gpu-check/finish.ts [resultDir=scripts/gpu-check/.result] [--payload DIR] [--out result.json] [--no-eval]
 *
 * resultDir is the device's $OUT (summary.json, events.jsonl, logits.safetensors, adapter/).
 */
import { spawnSync } from 'node:child_process'
import { createHash } from 'node:crypto'
import { existsSync } from 'node:fs'
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises'
import { join, relative, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { parseArgs } from 'node:util'
import { RAGTUNE_BIN } from '../../src/demo/cli-runner.js'
import type { CompareReport } from '../../src/demo/demo-table.js'
import { convertPeftToGguf } from '../../src/train/adapter-io/convert.js'
import { readSafetensors } from '../../src/train/adapter-io/safetensors.js'
import type { LogitsComparison, TokenSequence } from './llama-ref.js'
import { compareLogits, exactLogits, loadCpuModel } from './llama-ref.js'

const HERE = fileURLToPath(new URL('.', import.meta.url))
const REPO = resolve(HERE, '..', '..')

/** Agreement we call a pass: fp32 on both sides differs by float rounding, ~1e-5 of the logit spread. */
const PASS_REL = 1e-3

interface Manifest {
  createdAt: string
  git: unknown
  baseGgufSha256: string
  demoDir: string
  datasetId: string
  cpuAdapter: string
  baseGgufPath: string
  servingGgufPath: string
  sequences: Array<{ name: string; tokens: number }>
  llamaConfig: { vocab: number }
  job: Record<string, unknown>
}

type Json = Record<string, unknown>

const obj = (v: unknown): Json => (v && typeof v === 'object' && !Array.isArray(v) ? (v as Json) : {})
const num = (v: unknown): number | null => (typeof v === 'number' && Number.isFinite(v) ? v : null)
const fmt = (v: unknown, digits = 3): string => {
  const n = num(v)
  if (n === null) return v === undefined || v === null ? '—' : String(v)
  return Math.abs(n) !== 0 && (Math.abs(n) < 1e-3 || Math.abs(n) >= 1e5) ? n.toExponential(2) : n.toFixed(digits)
}

function cli(args: string[], cwd: string): { code: number; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [RAGTUNE_BIN, ...args], { cwd, encoding: 'utf8', maxBuffer: 64 * 2 ** 20 })
  return { code: r.status ?? 1, stdout: r.stdout, stderr: r.stderr }
}

function worst(per: Record<string, LogitsComparison>): { relMaxDiff: number; argmaxAgree: number; tokens: number } {
  const all = Object.values(per)
  return { relMaxDiff: Math.max(...all.map((c) => c.relMaxDiff)), argmaxAgree: all.reduce((s, c) => s + c.argmaxAgree, 0), tokens: all.reduce((s, c) => s + c.tokens, 0) }
}

/** Registers the GGUF in the demo workspace and evaluates it on the held-out split; paired comparisons against base. */
function evaluate(m: Manifest, name: string, gguf: string, gpu: string): Json {
  const set = `dataset:${m.datasetId}`
  const added = cli(['adapter', 'add', name, gguf, '--dataset-version', m.datasetId, '--reason', `GPU check: trained by job-script.py on ${gpu}`, '--json'], m.demoDir)
  if (added.code !== 0 && cli(['adapter', 'show', name, '--json'], m.demoDir).code !== 0) return { error: `adapter add failed: ${added.stderr.slice(-800)}` }
  const ran = cli(['eval', 'run', '--adapter', name, '--set', set, '--json'], m.demoDir)
  if (ran.code !== 0) return { error: `eval run failed: ${ran.stderr.slice(-800)}` }
  const run = JSON.parse(ran.stdout) as Json
  const compare = (adapter: string): CompareReport | { error: string } => {
    const r = cli(['eval', 'compare', 'base', adapter, '--set', set, '--json'], m.demoDir)
    return r.code === 0 ? (JSON.parse(r.stdout) as CompareReport) : { error: r.stderr.slice(-800) }
  }
  const gpuVsBase = compare(name)
  const cpuVsBase = compare(relative(join(m.demoDir, 'adapters'), m.cpuAdapter))
  const rows = (r: CompareReport | { error: string }): Json[] =>
    'comparison' in r ? r.comparison.overall.map((x) => ({ metric: x.metric, base: x.a, adapter: x.b, low: x.diff.low, high: x.diff.high, verdict: x.regression ? 'REGRESSION' : x.verdict })) : []
  return {
    adapter: name, set, runId: run.id ?? null, summary: run.summary ?? null,
    gpuVsBase: rows(gpuVsBase), cpuVsBase: rows(cpuVsBase),
    gate: 'decision' in gpuVsBase ? gpuVsBase.decision : null,
    errors: ['error' in gpuVsBase ? gpuVsBase.error : null, 'error' in cpuVsBase ? cpuVsBase.error : null].filter(Boolean),
  }
}

async function main(): Promise<number> {
  const { values, positionals } = parseArgs({
    allowPositionals: true,
    options: { payload: { type: 'string', default: join(HERE, '.payload') }, out: { type: 'string', default: join(HERE, 'result.json') }, 'no-eval': { type: 'boolean', default: false } },
  })
  const resultDir = resolve(positionals[0] ?? join(HERE, '.result'))
  const payload = resolve(values.payload as string)
  const m = JSON.parse(await readFile(join(payload, 'manifest.json'), 'utf8')) as Manifest
  const sequences = JSON.parse(await readFile(join(payload, 'sequences.json'), 'utf8')) as TokenSequence[]
  const summaryPath = join(resultDir, 'summary.json')
  const summary: Json = existsSync(summaryPath) ? (JSON.parse(await readFile(summaryPath, 'utf8')) as Json) : {}
  const env = obj(summary.env)
  const cuda = obj(env.cuda)
  const gpu = typeof cuda.name === 'string' ? cuda.name : 'no GPU recorded'
  const vocab = m.llamaConfig.vocab
  const result: Json = { createdAt: new Date().toISOString(), resultDir: relative(REPO, resultDir) || resultDir, device: { gpu, ...cuda }, versions: env.versions ?? null }
  const problems: string[] = []
  result.payload = { createdAt: m.createdAt, git: m.git, baseGguf: m.baseGgufPath }
  if (createHash('sha256').update(await readFile(m.baseGgufPath)).digest('hex') !== m.baseGgufSha256) {
    problems.push(`${m.baseGgufPath} changed since prepare.ts exported it; the comparison would be against other weights (run prepare.ts and the device check again)`)
  }

  // 1. convert the device's PEFT adapter with ragtune's converter, against the base GGUF.
  const peftDir = join(resultDir, 'adapter')
  const adapterSummary = obj(summary.adapter)
  const simulated = adapterSummary.engine === 'torch'
  let gguf: string | null = null
  let name = ''
  if (existsSync(join(peftDir, 'adapter_model.safetensors'))) {
    const outDir = join(m.demoDir, 'adapters', 'gpu-check')
    await mkdir(outDir, { recursive: true })
    const written = await convertPeftToGguf({ peftDir, base: m.baseGgufPath, out: join(outDir, 'converting.gguf') })
    // One registry name and file per adapter content, so re-runs never point an old record at new weights.
    name = `gpu-check${simulated ? '-sim' : ''}-${written.sha256.slice(0, 8)}`
    gguf = join(outDir, `${name}.gguf`)
    await rename(written.path, gguf)
    result.conversion = { gguf, bytes: written.bytes, sha256: written.sha256, rank: written.rank, alpha: written.alpha, warnings: written.warnings }
  } else problems.push(`no adapter in ${peftDir}`)

  // 2. logits: llama.cpp (base + converted adapter) vs the device's transformers + peft.
  const logitsPath = join(resultDir, 'logits.safetensors')
  if (gguf && existsSync(logitsPath)) {
    const device = (await readSafetensors(logitsPath)).tensors
    const ref = (await readSafetensors(join(payload, 'ref-logits.safetensors'))).tensors
    const model = await loadCpuModel(m.baseGgufPath)
    const served = await exactLogits(model, sequences, gguf)
    await model.dispose()
    const per = (prefix: string): Record<string, LogitsComparison> | null => {
      if (!sequences.every((s) => device.has(`${prefix}.${s.name}`))) return null
      return Object.fromEntries(sequences.map((s) => [s.name, compareLogits(device.get(`${prefix}.${s.name}`)!.values, served.get(s.name)!, vocab)]))
    }
    const peftVsLlama = per('adapter')
    const refVsLlama = per('adapter_ref')
    const effect = Object.fromEntries(sequences.map((s) => [s.name, compareLogits(ref.get(`base.${s.name}`)!.values, served.get(s.name)!, vocab)]))
    result.adapterFidelity = {
      deviceLogits: adapterSummary.logitsSource ?? 'unknown',
      peftVsLlamaCpp: peftVsLlama, plainTorchVsLlamaCpp: refVsLlama,
      worst: peftVsLlama ? worst(peftVsLlama) : null,
      adapterEffectOnLlamaCpp: Object.fromEntries(Object.entries(effect).map(([n, c]) => [n, { maxAbsChange: c.maxAbsDiff, argmaxUnchanged: c.argmaxAgree, tokens: c.tokens }])),
    }
    if (peftVsLlama && worst(peftVsLlama).relMaxDiff > PASS_REL) problems.push(`adapter logits differ: worst max|Δ|/std ${worst(peftVsLlama).relMaxDiff}`)
  } else if (gguf) problems.push(`no ${logitsPath}`)

  // 3. the device's own numbers, condensed.
  const base = obj(summary.base)
  const train = obj(summary.train)
  const run = (k: string): Json => obj(train[k])
  const full = run('full')
  result.base = {
    exportWorstRel: base.exportWorstRel ?? null, hfWorstRelCpu: base.hfWorstRel_cpu ?? null, hfWorstRelCuda: base.hfWorstRel_cuda ?? null,
    tokenizer: base.tokenizer ?? null, tokenIds: base.tokenIds ?? null, chatTemplate: base.chatTemplate ?? null, answerMasking: base.answerMasking ?? null,
    hfConfig: base.hfConfig ?? null, error: base.error ?? null,
  }
  result.training = {
    start: full.start ?? null, steps: full.steps ?? null, wallSeconds: full.wallSeconds ?? null, startupSeconds: full.startupSeconds ?? null, trainSeconds: full.trainSeconds ?? null,
    stepsPerSecond: full.stepsPerSecond ?? null, tokensPerSecondMedian: full.tokensPerSecondMedian ?? null, firstLoss: full.firstLoss ?? null, finalLoss: full.finalLoss ?? null,
    checkpoints: full.checkpoints ?? null, error: obj(full.error).message ?? train.error ?? null, jobConfig: train.jobConfig ?? m.job,
  }
  const resumed = run('resumed')
  result.resume = {
    ...obj(train.resume), resumedFinished: resumed.done !== undefined && resumed.done !== null, resumedTimedOut: resumed.timedOut ?? null,
    interruptedError: obj(run('interrupted').error).message ?? null, resumedError: obj(resumed.error).message ?? null,
  }
  result.adapter = { lora: adapterSummary.lora ?? null, cudaVsCpu: adapterSummary.cudaVsCpu ?? null, peftVsPlainTorch: adapterSummary.peftVsPlainTorch ?? null, error: adapterSummary.error ?? null }
  const bnbError = obj(env.importErrors).bitsandbytes
  result.nf4 = env.nf4Testable === true ? 'bitsandbytes imported: NF4 was available (quantization auto)' : `NOT TESTED: bitsandbytes ${bnbError ? `did not import (${String(bnbError).slice(0, 120)})` : 'state unknown'}; the job trained in ${String(obj(full.start).dtype ?? '?')}`
  result.deviceSteps = summary.steps ?? null
  result.simulated = simulated

  // 4. the held-out eval with the GPU-trained adapter (optional).
  if (!values['no-eval'] && gguf) result.eval = evaluate(m, name, gguf, gpu)

  result.problems = problems
  await writeFile(resolve(values.out as string), `${JSON.stringify(result, null, 2)}\n`)
  console.log(table(result))
  console.log(`\n(JSON: ${relative(REPO, resolve(values.out as string))})`)
  return problems.length > 0 ? 1 : 0
}

function table(r: Json): string {
  const b = obj(r.base)
  const t = obj(r.training)
  const res = obj(r.resume)
  const f = obj(r.adapterFidelity)
  const fw = obj(f.worst)
  const start = obj(t.start)
  const a = obj(r.adapter)
  const cudaCpu = Object.values(obj(a.cudaVsCpu)).map((c) => num(obj(c).relMaxDiff) ?? 0)
  const tokIds = obj(b.tokenIds)
  const chat = obj(b.chatTemplate)
  const mask = obj(b.answerMasking)
  const lines = [
    `## ragtune GPU check${r.simulated ? ' (SIMULATED: device logits from plain torch, no GPU)' : ''} — ${String(obj(r.device).gpu)}`,
    '',
    '| check | result |',
    '|---|---|',
    `| versions | ${Object.entries(obj(r.versions)).filter(([, v]) => v).map(([k, v]) => `${k} ${String(v)}`).join(', ') || '—'} |`,
    `| base export: plain torch (fp64) vs llama.cpp, max\\|Δ\\|/std | ${fmt(b.exportWorstRel)} |`,
    `| base: HF LlamaForCausalLM fp32 vs llama.cpp, max\\|Δ\\|/std (CPU / CUDA) | ${fmt(b.hfWorstRelCpu)} / ${fmt(b.hfWorstRelCuda)} |`,
    `| tokenizer: HF (${String(obj(b.tokenizer).class ?? '?')}) ids = GGUF ids | ${fmt(tokIds.equal, 0)}/${fmt(tokIds.cases, 0)} texts |`,
    `| chat template: apply_chat_template = renderChat (text / ids) | ${fmt(chat.textEqual, 0)}/${fmt(chat.cases, 0)} / ${fmt(chat.idsEqual, 0)}/${fmt(chat.cases, 0)} |`,
    `| job's answer masking vs CPU trainer (same / +"\\n" / other) | ${fmt(mask.same, 0)} / ${fmt(mask.plusTrailingNewline, 0)} / ${fmt(mask.other, 0)} of ${fmt(mask.records, 0)} |`,
    `| training: device, dtype, quantization | ${String(start.device ?? '—')}, ${String(start.dtype ?? '—')}, ${String(start.quantization ?? '—')} |`,
    `| training: steps, wall (startup + train) | ${fmt(t.steps, 0)}, ${fmt(t.wallSeconds, 1)} s (${fmt(t.startupSeconds, 1)} + ${fmt(t.trainSeconds, 1)}) |`,
    `| training: steps/s, tokens/s (median step) | ${fmt(t.stepsPerSecond, 1)}, ${fmt(t.tokensPerSecondMedian, 0)} |`,
    `| training: loss first → final | ${fmt(t.firstLoss)} → ${fmt(t.finalLoss)} |`,
    `| resume: SIGKILL after checkpoint, resumed from step, resumed run finished | ${fmt(res.killedAfterCheckpoint, 0)}, ${fmt(res.resumedStartStep, 0)}, ${res.resumedFinished ? 'yes' : res.resumedTimedOut ? 'NO (timed out)' : 'NO'} |`,
    `| resume: adapter max\\|Δ\\| vs uninterrupted (rel. to max\\|w\\|), bit-identical | ${fmt(res.adapterMaxAbsDiff)} (${fmt(res.adapterRelMaxDiff)}), ${String(res.bitIdentical ?? '—')} |`,
    `| resume: loss max\\|Δ\\| over ${fmt(res.lossStepsCompared, 0)} steps after resume | ${fmt(res.lossMaxAbsDiffAfterResume)} |`,
    `| adapter: peft CUDA vs CPU fp32, max\\|Δ\\|/std | ${cudaCpu.length ? fmt(Math.max(...cudaCpu)) : '—'} |`,
    `| adapter: device logits vs llama.cpp + converted GGUF, max\\|Δ\\|/std | ${fmt(fw.relMaxDiff)} (greedy tokens agree ${fmt(fw.argmaxAgree, 0)}/${fmt(fw.tokens, 0)}) |`,
    `| NF4 (bitsandbytes) | ${String(r.nf4)} |`,
  ]
  const ev = obj(r.eval)
  if (Array.isArray(ev.gpuVsBase) && ev.gpuVsBase.length > 0) {
    const cpu = new Map((ev.cpuVsBase as Json[]).map((x) => [x.metric, x]))
    lines.push('', `### held-out eval (${String(ev.set)}): base vs CPU-trained (demo) vs GPU-trained adapter`, '', '| metric | base | CPU adapter | GPU adapter | GPU − base [95% CI] | verdict |', '|---|---|---|---|---|---|')
    for (const x of ev.gpuVsBase as Json[]) {
      lines.push(`| ${String(x.metric)} | ${fmt(x.base)} | ${fmt(obj(cpu.get(x.metric)).adapter)} | ${fmt(x.adapter)} | [${fmt(x.low)}, ${fmt(x.high)}] | ${String(x.verdict)} |`)
    }
  } else if (r.eval) lines.push('', `eval: ${JSON.stringify(ev.error ?? ev.errors)}`)
  const problems = r.problems as string[]
  if (problems.length > 0) lines.push('', `problems: ${problems.join('; ')}`)
  return lines.join('\n')
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    console.error(err instanceof Error ? (err.stack ?? err.message) : String(err))
    process.exit(1)
  },
)
