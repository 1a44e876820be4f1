import type { BertShape, BertWeights, LayerNormWeights, Linear } from './bert-weights.js'
import { LAYER_NORM_EPSILON } from './bert-weights.js'
import type { OnnxGraph, OnnxNode, OnnxTensor, OnnxValueInfo } from './onnx-proto.js'
import { OnnxDataType } from './onnx-proto.js'

/**
 * The BERT forward pass as an ONNX graph (opset 17), matching what `optimum` exports for
 * BertModel / BertForSequenceClassification: same input and output names, so transformers.js
 * treats it like a real hub model.
 */

/** Additive mask value for padded keys; large enough that exp() underflows to exactly 0. */
export const MASK_VALUE = -1e9

class GraphBuilder {
  readonly nodes: OnnxNode[] = []
  readonly initializers: OnnxTensor[] = []
  private counter = 0

  constant(name: string, dims: readonly number[], data: Float32Array | BigInt64Array): string {
    this.initializers.push({ name, dims, data })
    return name
  }

  /** Adds a node and returns its (single) output name. */
  op(opType: string, inputs: readonly string[], attributes?: OnnxNode['attributes'], output?: string): string {
    const name = `${opType}_${this.counter++}`
    const out = output ?? `${name}_out`
    this.nodes.push({ opType, inputs, outputs: [out], name, ...(attributes ? { attributes } : {}) })
    return out
  }

  linear(x: string, prefix: string, linear: Linear): string {
    const w = this.constant(`${prefix}.weight`, [linear.inFeatures, linear.outFeatures], linear.weight)
    const b = this.constant(`${prefix}.bias`, [linear.outFeatures], linear.bias)
    return this.op('Add', [this.op('MatMul', [x, w]), b])
  }

  layerNorm(x: string, prefix: string, norm: LayerNormWeights): string {
    const gamma = this.constant(`${prefix}.weight`, [norm.gamma.length], norm.gamma)
    const beta = this.constant(`${prefix}.bias`, [norm.beta.length], norm.beta)
    return this.op('LayerNormalization', [x, gamma, beta], { axis: -1, epsilon: { float: LAYER_NORM_EPSILON } })
  }
}

const int64 = (...values: number[]): BigInt64Array => BigInt64Array.from(values.map(BigInt))
const float = (...values: number[]): Float32Array => Float32Array.from(values)

/** Graph nodes plus initializers for `weights`; the ONNX file is this graph, encoded. */
export function buildBertGraph(shape: BertShape, weights: BertWeights): OnnxGraph {
  const g = new GraphBuilder()
  const { hiddenSize: h, heads } = shape
  const headSize = h / heads

  // Embeddings: word + position (0..seq-1) + token type, then LayerNorm.
  const seqLen = g.op('Shape', ['input_ids'], { start: 1, end: 2 })
  const wordTable = g.constant('embeddings.word_embeddings.weight', [shape.vocabSize, h], weights.wordEmbeddings)
  const posTable = g.constant('embeddings.position_embeddings.weight', [shape.maxPositions, h], weights.positionEmbeddings)
  const typeTable = g.constant('embeddings.token_type_embeddings.weight', [shape.typeVocabSize, h], weights.tokenTypeEmbeddings)
  const zero = g.constant('const.zero_1d', [1], int64(0))
  const positions = g.op('Slice', [posTable, zero, seqLen, zero])
  const words = g.op('Gather', [wordTable, 'input_ids'], { axis: 0 })
  const types = g.op('Gather', [typeTable, 'token_type_ids'], { axis: 0 })
  const summed = g.op('Add', [g.op('Add', [words, positions]), types])
  let hidden = g.layerNorm(summed, 'embeddings.LayerNorm', weights.embeddingNorm)

  // Attention bias [batch, 1, 1, seq]: 0 where attention_mask is 1, MASK_VALUE where it is 0.
  const maskFloat = g.op('Cast', ['attention_mask'], { to: OnnxDataType.FLOAT })
  const one = g.constant('const.one', [], float(1))
  const maskValue = g.constant('const.mask_value', [], float(MASK_VALUE))
  const maskAxes = g.constant('const.mask_axes', [2], int64(1, 2))
  const inverted = g.op('Sub', [one, g.op('Unsqueeze', [maskFloat, maskAxes])])
  const attentionBias = g.op('Mul', [inverted, maskValue])

  const splitHeads = g.constant('const.split_heads_shape', [4], int64(0, 0, heads, headSize))
  const mergeHeads = g.constant('const.merge_heads_shape', [3], int64(0, 0, h))
  const scale = g.constant('const.attention_scale', [], float(1 / Math.sqrt(headSize)))
  const halfConst = g.constant('const.half', [], float(0.5))
  const invSqrt2 = g.constant('const.inv_sqrt2', [], float(Math.SQRT1_2))

  weights.layers.forEach((layer, i) => {
    const p = `encoder.layer.${i}`
    const toHeads = (x: string, perm: number[]): string => g.op('Transpose', [g.op('Reshape', [x, splitHeads])], { perm })
    const q = toHeads(g.linear(hidden, `${p}.attention.self.query`, layer.query), [0, 2, 1, 3])
    const k = toHeads(g.linear(hidden, `${p}.attention.self.key`, layer.key), [0, 2, 3, 1])
    const v = toHeads(g.linear(hidden, `${p}.attention.self.value`, layer.value), [0, 2, 1, 3])
    const scores = g.op('Add', [g.op('Mul', [g.op('MatMul', [q, k]), scale]), attentionBias])
    const probs = g.op('Softmax', [scores], { axis: -1 })
    const context = g.op('Reshape', [g.op('Transpose', [g.op('MatMul', [probs, v])], { perm: [0, 2, 1, 3] }), mergeHeads])
    const attended = g.linear(context, `${p}.attention.output.dense`, layer.attentionOutput)
    const afterAttention = g.layerNorm(g.op('Add', [attended, hidden]), `${p}.attention.output.LayerNorm`, layer.attentionNorm)
    // Exact GELU: 0.5·x·(1 + erf(x/√2)).
    const up = g.linear(afterAttention, `${p}.intermediate.dense`, layer.intermediate)
    const erf = g.op('Erf', [g.op('Mul', [up, invSqrt2])])
    const gelu = g.op('Mul', [g.op('Mul', [up, g.op('Add', [erf, one])]), halfConst])
    const down = g.linear(gelu, `${p}.output.dense`, layer.output)
    hidden = g.layerNorm(g.op('Add', [down, afterAttention]), `${p}.output.LayerNorm`, layer.outputNorm)
  })

  const inputs: OnnxValueInfo[] = ['input_ids', 'attention_mask', 'token_type_ids'].map((name) => ({
    name,
    elemType: OnnxDataType.INT64,
    shape: ['batch_size', 'sequence_length'],
  }))
  if (!weights.head) {
    g.op('Identity', [hidden], undefined, 'last_hidden_state')
    const output = { name: 'last_hidden_state', elemType: OnnxDataType.FLOAT, shape: ['batch_size', 'sequence_length', h] }
    return { name: 'bert', nodes: g.nodes, initializers: g.initializers, inputs, outputs: [output] }
  }

  // BertPooler (tanh of a dense layer on [CLS]) and a one-logit classifier.
  const clsIndex = g.constant('const.cls_index', [], int64(0))
  const cls = g.op('Gather', [hidden, clsIndex], { axis: 1 })
  const pooled = g.op('Tanh', [g.linear(cls, 'pooler.dense', weights.head.pooler)])
  const logits = g.linear(pooled, 'classifier', weights.head.classifier)
  g.op('Identity', [logits], undefined, 'logits')
  const output = { name: 'logits', elemType: OnnxDataType.FLOAT, shape: ['batch_size', weights.head.classifier.outFeatures] }
  return { name: 'bert', nodes: g.nodes, initializers: g.initializers, inputs, outputs: [output] }
}
