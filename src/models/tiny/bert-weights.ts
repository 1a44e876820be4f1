import { seededUniform } from '../seeded-random.js'
/**
 * Weights of a BERT-shaped model, generated from a seed. Only integer arithmetic, `+ - * /` and
 * `Math.sqrt` touch the values, all exactly specified by IEEE-754, so the same seed yields the same
 * bytes on every platform and Node version.
 */

export type ModelKind = 'encoder' | 'cross-encoder'
export type WeightScheme = 'random' | 'bag-of-words'

export interface BertShape {
  kind: ModelKind
  hiddenSize: number
  layers: number
  heads: number
  intermediateSize: number
  maxPositions: number
  vocabSize: number
  typeVocabSize: number
}

/** A dense layer stored as ONNX MatMul wants it: `weight` is [in][out], row-major. */
export interface Linear {
  inFeatures: number
  outFeatures: number
  weight: Float32Array
  bias: Float32Array
}

export interface LayerNormWeights {
  gamma: Float32Array
  beta: Float32Array
}

export interface BertLayerWeights {
  query: Linear
  key: Linear
  value: Linear
  attentionOutput: Linear
  attentionNorm: LayerNormWeights
  intermediate: Linear
  output: Linear
  outputNorm: LayerNormWeights
}

export interface BertWeights {
  wordEmbeddings: Float32Array
  positionEmbeddings: Float32Array
  tokenTypeEmbeddings: Float32Array
  embeddingNorm: LayerNormWeights
  layers: BertLayerWeights[]
  /** Only for cross-encoders: the BertPooler dense layer (tanh) and the 1-logit classifier. */
  head?: { pooler: Linear; classifier: Linear }
}

/** BERT's LayerNorm epsilon; the graph and any reference forward must use the same value. */
export const LAYER_NORM_EPSILON = 1e-12

class WeightFactory {
  constructor(private readonly seed: number) {}

  /** Uniform in [-a, a] with a = std·√3, so the standard deviation is `std`. */
  uniform(name: string, length: number, std: number, center = 0): Float32Array {
    return seededUniform(name, this.seed, length, std, center)
  }

  linear(name: string, inFeatures: number, outFeatures: number): Linear {
    return {
      inFeatures,
      outFeatures,
      weight: this.uniform(`${name}.weight`, inFeatures * outFeatures, 1 / Math.sqrt(inFeatures)),
      bias: this.uniform(`${name}.bias`, outFeatures, 0.05),
    }
  }

  layerNorm(name: string, size: number): LayerNormWeights {
    return { gamma: this.uniform(`${name}.weight`, size, 0.05, 1), beta: this.uniform(`${name}.bias`, size, 0.05) }
  }
}

function zeroLinear(inFeatures: number, outFeatures: number): Linear {
  return { inFeatures, outFeatures, weight: new Float32Array(inFeatures * outFeatures), bias: new Float32Array(outFeatures) }
}

function identityLinear(size: number): Linear {
  const linear = zeroLinear(size, size)
  for (let i = 0; i < size; i++) linear.weight[i * size + i] = 1
  return linear
}

function unitLayerNorm(size: number): LayerNormWeights {
  return { gamma: new Float32Array(size).fill(1), beta: new Float32Array(size) }
}

/** Random weights of the given shape: values do not matter for speed, only for exercising the graph. */
export function randomBertWeights(shape: BertShape, seed: number): BertWeights {
  const f = new WeightFactory(seed)
  const { hiddenSize: h, intermediateSize: m } = shape
  const layers = Array.from({ length: shape.layers }, (_, i): BertLayerWeights => {
    const p = `encoder.layer.${i}`
    return {
      query: f.linear(`${p}.attention.self.query`, h, h),
      key: f.linear(`${p}.attention.self.key`, h, h),
      value: f.linear(`${p}.attention.self.value`, h, h),
      attentionOutput: f.linear(`${p}.attention.output.dense`, h, h),
      attentionNorm: f.layerNorm(`${p}.attention.output.LayerNorm`, h),
      intermediate: f.linear(`${p}.intermediate.dense`, h, m),
      output: f.linear(`${p}.output.dense`, m, h),
      outputNorm: f.layerNorm(`${p}.output.LayerNorm`, h),
    }
  })
  return {
    wordEmbeddings: f.uniform('embeddings.word_embeddings.weight', shape.vocabSize * h, 0.5),
    positionEmbeddings: f.uniform('embeddings.position_embeddings.weight', shape.maxPositions * h, 0.5),
    tokenTypeEmbeddings: f.uniform('embeddings.token_type_embeddings.weight', shape.typeVocabSize * h, 0.5),
    embeddingNorm: f.layerNorm('embeddings.LayerNorm', h),
    layers,
    ...(shape.kind === 'cross-encoder' ? { head: randomHead(f, h) } : {}),
  }
}

function randomHead(f: WeightFactory, h: number): { pooler: Linear; classifier: Linear } {
  return { pooler: f.linear('pooler.dense', h, h), classifier: f.linear('classifier', h, 1) }
}

/**
 * Weights that make the [CLS] output the (normalised) mean of the word embeddings, without training:
 * Q = K = 0 gives uniform attention over unmasked tokens, V = O = I in the first layer averages the
 * embeddings into every position, later layers and all MLPs are zero so the residual path carries
 * the average through. Position and token-type embeddings are zero (order does not matter) and so
 * are the [PAD]/[CLS]/[SEP]/[MASK] rows, so the cosine of two embeddings tracks shared words.
 * It says nothing about real retrieval quality.
 */
export function bagOfWordsBertWeights(shape: BertShape, seed: number, zeroTokenIds: readonly number[]): BertWeights {
  const f = new WeightFactory(seed)
  const { hiddenSize: h, intermediateSize: m } = shape
  const words = f.uniform('embeddings.word_embeddings.weight', shape.vocabSize * h, 1)
  for (let row = 0; row < shape.vocabSize; row++) standardizeRow(words.subarray(row * h, (row + 1) * h))
  for (const id of zeroTokenIds) words.fill(0, id * h, (id + 1) * h)
  const layers = Array.from({ length: shape.layers }, (_, i): BertLayerWeights => ({
    query: zeroLinear(h, h),
    key: zeroLinear(h, h),
    value: i === 0 ? identityLinear(h) : zeroLinear(h, h),
    attentionOutput: i === 0 ? identityLinear(h) : zeroLinear(h, h),
    attentionNorm: unitLayerNorm(h),
    intermediate: zeroLinear(h, m),
    output: zeroLinear(m, h),
    outputNorm: unitLayerNorm(h),
  }))
  return {
    wordEmbeddings: words,
    positionEmbeddings: new Float32Array(shape.maxPositions * h),
    tokenTypeEmbeddings: new Float32Array(shape.typeVocabSize * h),
    embeddingNorm: unitLayerNorm(h),
    layers,
    ...(shape.kind === 'cross-encoder' ? { head: randomHead(f, h) } : {}),
  }
}

/** Zero mean and unit variance, so the embedding LayerNorm leaves a row (almost) unchanged. */
function standardizeRow(row: Float32Array): void {
  let mean = 0
  for (const v of row) mean += v
  mean /= row.length
  let variance = 0
  for (const v of row) variance += (v - mean) * (v - mean)
  const inv = 1 / Math.sqrt(variance / row.length)
  for (let i = 0; i < row.length; i++) row[i] = ((row[i] as number) - mean) * inv
}
