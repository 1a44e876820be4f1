import { ProtoWriter } from './protobuf-writer.js'

/**
 * The slice of the ONNX schema (onnx.proto, IR version 8) that a BERT graph needs, encoded with our
 * own protobuf writer. Field numbers are the ones in onnx.proto; keeping them in one file makes
 * them easy to check against the spec.
 */

/** TensorProto.DataType values used here. */
export const OnnxDataType = { FLOAT: 1, INT64: 7 } as const
export type OnnxDataType = (typeof OnnxDataType)[keyof typeof OnnxDataType]

/** AttributeProto.AttributeType values used here. */
const AttributeType = { FLOAT: 1, INT: 2, INTS: 7 } as const

/** An initializer or constant: fp32 or int64 data with its shape. */
export interface OnnxTensor {
  name: string
  dims: readonly number[]
  data: Float32Array | BigInt64Array
}

export type OnnxAttribute = number | readonly number[] | { float: number }

export interface OnnxNode {
  opType: string
  inputs: readonly string[]
  outputs: readonly string[]
  name: string
  /** Integers become INT, arrays INTS, `{float}` FLOAT. */
  attributes?: Record<string, OnnxAttribute>
}

/** A graph input or output: element type plus dims, where a string is a symbolic dim. */
export interface OnnxValueInfo {
  name: string
  elemType: OnnxDataType
  shape: readonly (number | string)[]
}

export interface OnnxGraph {
  name: string
  nodes: readonly OnnxNode[]
  initializers: readonly OnnxTensor[]
  inputs: readonly OnnxValueInfo[]
  outputs: readonly OnnxValueInfo[]
}

export interface OnnxModel {
  graph: OnnxGraph
  opsetVersion: number
  irVersion: number
  producerName: string
  producerVersion: string
}

/** Encodes a ModelProto; the chunks concatenated form the `.onnx` file. */
export function encodeOnnxModel(model: OnnxModel): Uint8Array[] {
  const opset = new ProtoWriter().string(1, '').varint(2, model.opsetVersion)
  return new ProtoWriter()
    .varint(1, model.irVersion)
    .string(2, model.producerName)
    .string(3, model.producerVersion)
    .message(7, encodeGraph(model.graph))
    .message(8, opset)
    .finish()
}

function encodeGraph(graph: OnnxGraph): ProtoWriter {
  const w = new ProtoWriter()
  for (const node of graph.nodes) w.message(1, encodeNode(node))
  w.string(2, graph.name)
  for (const tensor of graph.initializers) w.message(5, encodeTensor(tensor))
  for (const input of graph.inputs) w.message(11, encodeValueInfo(input))
  for (const output of graph.outputs) w.message(12, encodeValueInfo(output))
  return w
}

function encodeNode(node: OnnxNode): ProtoWriter {
  const w = new ProtoWriter()
  for (const input of node.inputs) w.string(1, input)
  for (const output of node.outputs) w.string(2, output)
  w.string(3, node.name).string(4, node.opType)
  for (const [name, value] of Object.entries(node.attributes ?? {})) w.message(5, encodeAttribute(name, value))
  return w
}

function encodeAttribute(name: string, value: OnnxAttribute): ProtoWriter {
  const w = new ProtoWriter().string(1, name)
  if (typeof value === 'number') return w.varint(3, value).varint(20, AttributeType.INT)
  if ('float' in value) return w.float(2, value.float).varint(20, AttributeType.FLOAT)
  for (const v of value) w.varint(8, v)
  return w.varint(20, AttributeType.INTS)
}

function encodeTensor(tensor: OnnxTensor): ProtoWriter {
  const w = new ProtoWriter()
  for (const d of tensor.dims) w.varint(1, d)
  w.varint(2, tensor.data instanceof Float32Array ? OnnxDataType.FLOAT : OnnxDataType.INT64)
  w.string(8, tensor.name)
  // raw_data is little-endian by spec; typed arrays use the platform order (checked at generation).
  w.bytes(9, new Uint8Array(tensor.data.buffer, tensor.data.byteOffset, tensor.data.byteLength))
  return w
}

function encodeValueInfo(info: OnnxValueInfo): ProtoWriter {
  const shape = new ProtoWriter()
  for (const dim of info.shape) {
    const d = new ProtoWriter()
    if (typeof dim === 'number') d.varint(1, dim)
    else d.string(2, dim)
    shape.message(1, d)
  }
  const tensorType = new ProtoWriter().varint(1, info.elemType).message(2, shape)
  const type = new ProtoWriter().message(1, tensorType)
  return new ProtoWriter().string(1, info.name).message(2, type)
}
