import { RagtuneError } from '../../errors.js'
import type { LinearName } from '../../models/tiny-llama/tiny-llama.js'
import { seededUniform } from '../../models/seeded-random.js'
import type { Kernels } from '../kernels/kernels.js'
import type { LoraWeights } from '../lora-weights.js'
import type { BlockInput, BlockParams } from './block.js'
import { blockBackward, blockForward } from './block.js'
import type { EngineContext, LoraParams } from './linear.js'
import { Linear } from './linear.js'
import type { LlamaConfig, LlamaWeights } from './llama-weights.js'
import { LINEAR_NAMES } from './llama-weights.js'

/**
 * A Llama model set up for training: the frozen base plus LoRA pairs on the target matmuls (or, for
 * building test fixtures, every weight trainable). `lossAndGrad` runs forward and backward over a
 * packed micro-batch and adds into the gradients; the optimizer lives elsewhere.
 */

export interface LoraSpec {
  rank: number
  alpha: number
  targets: readonly LinearName[]
  dropout: number
}

export interface TrainModelOptions {
  kernels: Kernels
  /** LoRA training (the product). */
  lora?: LoraSpec
  /** Every weight trainable; f32 bases only. Used to pre-train the tiny fixture model. */
  full?: boolean
  /** Seeds LoRA's initial A. */
  seed: number
  /** Rows of logits computed at once; bounds the [rows, vocab] buffer. Default 256. */
  headChunk?: number
}

/** Sequences packed end to end; `targets[t]` is the token to predict at t, or −1 (not scored). */
export interface PackedBatch {
  tokens: Int32Array
  targets: Int32Array
  segments: Int32Array
}

export interface Param {
  name: string
  value: Float32Array
  grad: Float32Array
}

export class LlamaTrainModel {
  readonly config: LlamaConfig
  readonly params: Param[] = []
  private readonly blocks: BlockParams[]
  private readonly scratch: Float32Array
  private readonly headChunk: number
  private readonly embeddingGrad: Float32Array | null = null
  private readonly outputGrad: Float32Array | null = null
  private readonly outputNormGrad: Float32Array | null = null
  private readonly loraPairs = new Map<string, LoraParams>()

  constructor(readonly weights: LlamaWeights, private readonly options: TrainModelOptions) {
    const c = weights.config
    this.config = c
    this.headChunk = options.headChunk ?? 256
    this.scratch = new Float32Array(weights.maxMatrixValues)
    const full = options.full === true
    if (full && !options.lora) {
      const all = [weights.tokenEmbedding, weights.output, ...weights.blocks.flatMap((b) => Object.values(b.linear))]
      const notF32 = all.find((m) => m.type !== 'f32')
      if (notF32) throw new RagtuneError('INVALID_OPTIONS', `full-weight training needs an f32 base; ${notF32.name} is ${notF32.type}`, { details: { tensor: notF32.name } })
      for (const m of new Set(all)) {
        m.f32 = Float32Array.from(m.f32 as Float32Array)
        const grad = new Float32Array(m.f32.length)
        this.params.push({ name: m.name, value: m.f32, grad })
        if (m === weights.tokenEmbedding) this.embeddingGrad = grad
        if (m === weights.output) this.outputGrad = grad
      }
      this.outputNormGrad = this.trainable('output_norm.weight', weights.outputNorm)
    } else if (!options.lora) {
      throw new RagtuneError('INVALID_OPTIONS', 'nothing to train: give LoRA settings (or full: true for fixtures)', { details: {} })
    }
    const gradOf = (m: { name: string }): Float32Array | null => (full ? (this.params.find((p) => p.name === m.name)?.grad ?? null) : null)
    this.blocks = weights.blocks.map((b, layer) => {
      const linear = {} as Record<LinearName, Linear>
      for (const name of LINEAR_NAMES) {
        const w = b.linear[name]
        const lora = options.lora?.targets.includes(name) ? this.createLora(`blk.${layer}.${name}`, w.rows, w.cols, options.lora) : null
        linear[name] = new Linear(w, lora, gradOf(w))
      }
      return {
        attnNorm: full ? Float32Array.from(b.attnNorm) : b.attnNorm,
        ffnNorm: full ? Float32Array.from(b.ffnNorm) : b.ffnNorm,
        attnNormGrad: null,
        ffnNormGrad: null,
        linear,
      }
    })
    if (full) {
      this.blocks.forEach((b, layer) => {
        b.attnNormGrad = this.trainable(`blk.${layer}.attn_norm.weight`, b.attnNorm)
        b.ffnNormGrad = this.trainable(`blk.${layer}.ffn_norm.weight`, b.ffnNorm)
        weights.blocks[layer]!.attnNorm = b.attnNorm
        weights.blocks[layer]!.ffnNorm = b.ffnNorm
      })
    }
  }

  private trainable(name: string, value: Float32Array): Float32Array {
    const grad = new Float32Array(value.length)
    this.params.push({ name, value, grad })
    return grad
  }

  /** PEFT's initialization: A ~ kaiming-uniform (bound 1/√in), B = 0, so training starts at the base. */
  private createLora(key: string, outputs: number, inputs: number, spec: LoraSpec): LoraParams {
    const a = seededUniform(`${key}.lora_a`, this.options.seed, spec.rank * inputs, 1 / Math.sqrt(3 * inputs))
    const b = new Float32Array(outputs * spec.rank)
    const pair: LoraParams = { rank: spec.rank, scale: spec.alpha / spec.rank, a, b, gradA: new Float32Array(a.length), gradB: new Float32Array(b.length) }
    this.params.push({ name: `${key}.lora_a`, value: a, grad: pair.gradA }, { name: `${key}.lora_b`, value: b, grad: pair.gradB })
    this.loraPairs.set(key, pair)
    return pair
  }

  zeroGrad(): void {
    for (const p of this.params) p.grad.fill(0)
  }

  private context(training: boolean): EngineContext {
    return { kernels: this.options.kernels, scratch: this.scratch, dropout: training ? (this.options.lora?.dropout ?? 0) : 0 }
  }

  private embed(tokens: Int32Array): Float32Array {
    const h = this.config.hidden
    const x = new Float32Array(tokens.length * h)
    for (let t = 0; t < tokens.length; t++) {
      const id = tokens[t] as number
      if (id < 0 || id >= this.config.vocab) throw new RagtuneError('INVALID_INPUT', `token id ${id} is outside the vocabulary (0..${this.config.vocab - 1})`, { details: { id } })
      this.weights.tokenEmbedding.row(this.options.kernels, id, x.subarray(t * h, (t + 1) * h))
    }
    return x
  }

  /** Forward only: logits [T, vocab] for every position (for tests and evaluation). */
  logits(batch: Pick<PackedBatch, 'tokens' | 'segments'>): Float32Array {
    const ctx = this.context(false)
    const T = batch.tokens.length
    let x = this.embed(batch.tokens)
    this.blocks.forEach((b, layer) => {
      x = blockForward(ctx, this.config, b, x, { T, segments: batch.segments, maskSeed: layer }).y
    })
    const { xf } = this.finalNorm(x, T)
    const out = new Float32Array(T * this.config.vocab)
    const w = this.weights.output.values(ctx.kernels, this.scratch)
    ctx.kernels.sgemm({ m: T, n: this.config.vocab, k: this.config.hidden, a: xf, b: w, c: out, transB: true })
    return out
  }

  private finalNorm(x: Float32Array, T: number): { xf: Float32Array; rstd: Float32Array } {
    const xf = new Float32Array(x.length)
    const rstd = new Float32Array(T)
    this.options.kernels.rmsNormForward({ x, weight: this.weights.outputNorm, rows: T, dim: this.config.hidden, eps: this.config.eps, out: xf, rstd })
    return { xf, rstd }
  }

  /**
   * Forward and backward over one packed micro-batch; gradients of `lossScale · Σ loss` are added to
   * the params. Returns the unscaled loss sum and how many tokens were scored.
   */
  lossAndGrad(batch: PackedBatch, opts: { lossScale: number; maskSeed: number }): { loss: number; scored: number } {
    const ctx = this.context(true)
    const { kernels } = ctx
    const c = this.config
    const T = batch.tokens.length
    const inputs: BlockInput[] = this.blocks.map((_, layer) => ({ T, segments: batch.segments, maskSeed: Math.imul(opts.maskSeed + 1, 0x9e3779b1) ^ (layer * 0x85ebca6b) }))
    const x0 = this.embed(batch.tokens)
    let x = x0
    const caches = this.blocks.map((b, layer) => {
      const r = blockForward(ctx, c, b, x, inputs[layer] as BlockInput)
      x = r.y
      return r.cache
    })
    const { xf, rstd } = this.finalNorm(x, T)

    // Head and loss, a chunk of rows at a time: logits → (in place) dlogits → dxf.
    const dxf = new Float32Array(T * c.hidden)
    let loss = 0
    let scored = 0
    // Dequantized once per micro-batch (not per chunk); one logits buffer serves every chunk.
    const w = this.weights.output.values(kernels, this.scratch)
    const chunkLogits = new Float32Array(Math.min(this.headChunk, T) * c.vocab)
    for (let r0 = 0; r0 < T; r0 += this.headChunk) {
      const rows = Math.min(this.headChunk, T - r0)
      const targets = batch.targets.subarray(r0, r0 + rows)
      let any = 0
      for (const t of targets) if (t >= 0) any++
      if (any === 0) continue
      scored += any
      const xs = xf.subarray(r0 * c.hidden, (r0 + rows) * c.hidden)
      const logits = chunkLogits.subarray(0, rows * c.vocab)
      kernels.sgemm({ m: rows, n: c.vocab, k: c.hidden, a: xs, b: w, c: logits, transB: true })
      loss += kernels.crossEntropy({ logits, targets, rows, vocab: c.vocab, scale: opts.lossScale })
      kernels.sgemm({ m: rows, n: c.hidden, k: c.vocab, a: logits, b: w, c: dxf.subarray(r0 * c.hidden, (r0 + rows) * c.hidden) })
      if (this.outputGrad) kernels.sgemm({ m: c.vocab, n: c.hidden, k: rows, a: logits, b: xs, c: this.outputGrad, transA: true, beta: 1 })
    }
    let dx: Float32Array = new Float32Array(T * c.hidden)
    kernels.rmsNormBackward({ x, weight: this.weights.outputNorm, rows: T, dim: c.hidden, eps: c.eps, rstd, dOut: dxf, dX: dx, ...(this.outputNormGrad ? { dWeight: this.outputNormGrad } : {}) })
    for (let layer = this.blocks.length - 1; layer >= 0; layer--) {
      dx = blockBackward(ctx, c, this.blocks[layer] as BlockParams, caches[layer] as Parameters<typeof blockBackward>[3], dx, inputs[layer] as BlockInput)
      caches[layer] = undefined as never
    }
    if (this.embeddingGrad) {
      const g = this.embeddingGrad
      const h = c.hidden
      for (let t = 0; t < T; t++) {
        const row = (batch.tokens[t] as number) * h
        for (let i = 0; i < h; i++) g[row + i] = (g[row + i] as number) + (dx[t * h + i] as number)
      }
    }
    return { loss, scored }
  }

  /** The LoRA pairs as they are now (copies), for checkpoints and adapter files. */
  loraWeights(): LoraWeights {
    const spec = this.options.lora
    if (!spec) throw new RagtuneError('INVALID_OPTIONS', 'this model trains full weights, not LoRA', { details: {} })
    const pairs = new Map<string, { inputs: number; outputs: number; a: Float32Array; b: Float32Array }>()
    for (const [key, p] of this.loraPairs) pairs.set(key, { inputs: p.a.length / p.rank, outputs: p.b.length / p.rank, a: Float32Array.from(p.a), b: Float32Array.from(p.b) })
    return { rank: spec.rank, alpha: spec.alpha, targets: spec.targets, pairs }
  }
}
