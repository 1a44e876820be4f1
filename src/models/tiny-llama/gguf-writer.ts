import { createHash } from 'node:crypto'
import { open } from 'node:fs/promises'
import { RagtuneError } from '../../errors.js'
import { ggmlBytes } from '../gguf/ggml-types.js'
import { Q8_0_BLOCK, f32ToF16Bits, quantizeQ8_0 } from './half-float.js'

/**
 * A GGUF v3 writer (the file format of llama.cpp): header, typed metadata, tensor infos and aligned
 * tensor data, little-endian. Written from the spec so tests and benchmarks can make models without
 * Python or any download. Tensor values are produced on demand, tensor by tensor, so a 500 MB
 * benchmark model streams to disk instead of sitting in memory.
 */

/** GGUF metadata value types, by their numeric code in the file. */
export const GGUF_VALUE_TYPE = {
  uint8: 0, int8: 1, uint16: 2, int16: 3, uint32: 4, int32: 5, float32: 6, bool: 7, string: 8, array: 9, uint64: 10, int64: 11, float64: 12,
} as const

type NumberType = 'uint8' | 'int8' | 'uint16' | 'int16' | 'uint32' | 'int32' | 'float32' | 'float64'
type ScalarType = NumberType | 'uint64' | 'int64' | 'bool' | 'string'

/** One metadata value with its GGUF type; arrays hold scalars of one type. */
export type GgufValue =
  | { type: NumberType; value: number }
  | { type: 'uint64' | 'int64'; value: bigint }
  | { type: 'bool'; value: boolean }
  | { type: 'string'; value: string }
  | { type: 'array'; itemType: ScalarType; value: ArrayLike<number | bigint | boolean | string> }

/** Shorthands, so metadata reads like the key list in llama.cpp's converter. */
export const gguf = {
  u32: (value: number): GgufValue => ({ type: 'uint32', value }),
  i32: (value: number): GgufValue => ({ type: 'int32', value }),
  f32: (value: number): GgufValue => ({ type: 'float32', value }),
  bool: (value: boolean): GgufValue => ({ type: 'bool', value }),
  str: (value: string): GgufValue => ({ type: 'string', value }),
  strings: (value: readonly string[]): GgufValue => ({ type: 'array', itemType: 'string', value }),
  i32s: (value: ArrayLike<number>): GgufValue => ({ type: 'array', itemType: 'int32', value }),
  f32s: (value: ArrayLike<number>): GgufValue => ({ type: 'array', itemType: 'float32', value }),
}

/** Tensor storage types we write, with their ggml type codes. */
export const GGML_TYPE = { f32: 0, f16: 1, q8_0: 8 } as const
export type GgmlTypeName = keyof typeof GGML_TYPE

export interface GgufTensor {
  name: string
  /** ggml order: dims[0] varies fastest, so a matmul weight is [inputs, outputs]. */
  dims: readonly number[]
  type: GgmlTypeName
  /** The values, dims[0] contiguous; called once, while the file is being written. */
  values: () => Float32Array
}

export interface GgufFile {
  metadata: ReadonlyArray<readonly [string, GgufValue]>
  tensors: readonly GgufTensor[]
  /** Tensor data alignment; written as `general.alignment` when not the default 32. */
  alignment?: number
}

export const GGUF_MAGIC = 0x46554747 // "GGUF" read as a little-endian uint32
export const GGUF_VERSION = 3
export const GGUF_DEFAULT_ALIGNMENT = 32

/** Bytes a tensor occupies, before alignment padding. */
export function tensorByteSize(tensor: Pick<GgufTensor, 'dims' | 'type' | 'name'>): number {
  const count = tensor.dims.reduce((a, b) => a * b, 1)
  if (tensor.type === 'q8_0' && (tensor.dims[0] ?? 0) % Q8_0_BLOCK !== 0) {
    throw new RagtuneError('INVALID_OPTIONS', `tensor ${tensor.name} cannot be Q8_0: its first dimension ${tensor.dims[0]} is not a multiple of ${Q8_0_BLOCK}`, {
      details: { tensor: tensor.name, dims: tensor.dims },
      hint: 'pick sizes that are multiples of 32, or write this tensor as f32',
    })
  }
  return ggmlBytes(tensor.type, count)
}

const padTo = (n: number, alignment: number): number => Math.ceil(n / alignment) * alignment

/** Grows as it goes; the header of even a 49k-token vocabulary is a few MB at most. */
class ByteSink {
  private buf = new Uint8Array(4096)
  private view = new DataView(this.buf.buffer)
  length = 0

  private reserve(n: number): void {
    if (this.length + n <= this.buf.byteLength) return
    const grown = new Uint8Array(Math.max(this.buf.byteLength * 2, this.length + n))
    grown.set(this.buf.subarray(0, this.length))
    this.buf = grown
    this.view = new DataView(grown.buffer)
  }

  scalar(type: ScalarType, value: number | bigint | boolean | string): void {
    if (type === 'string') return this.string(String(value))
    const size = { uint8: 1, int8: 1, bool: 1, uint16: 2, int16: 2, uint32: 4, int32: 4, float32: 4, uint64: 8, int64: 8, float64: 8 }[type]
    this.reserve(size)
    const at = this.length
    const v = this.view
    if (type === 'uint8' || type === 'bool') v.setUint8(at, Number(value))
    else if (type === 'int8') v.setInt8(at, Number(value))
    else if (type === 'uint16') v.setUint16(at, Number(value), true)
    else if (type === 'int16') v.setInt16(at, Number(value), true)
    else if (type === 'uint32') v.setUint32(at, Number(value), true)
    else if (type === 'int32') v.setInt32(at, Number(value), true)
    else if (type === 'float32') v.setFloat32(at, Number(value), true)
    else if (type === 'float64') v.setFloat64(at, Number(value), true)
    else if (type === 'uint64') v.setBigUint64(at, BigInt(value as number | bigint), true)
    else v.setBigInt64(at, BigInt(value as number | bigint), true)
    this.length += size
  }

  string(value: string): void {
    const bytes = Buffer.from(value, 'utf8')
    this.scalar('uint64', BigInt(bytes.byteLength))
    this.reserve(bytes.byteLength)
    this.buf.set(bytes, this.length)
    this.length += bytes.byteLength
  }

  zeros(n: number): void {
    this.reserve(n)
    this.buf.fill(0, this.length, this.length + n)
    this.length += n
  }

  bytes(): Uint8Array {
    return this.buf.slice(0, this.length)
  }
}

function writeValue(sink: ByteSink, value: GgufValue): void {
  sink.scalar('uint32', GGUF_VALUE_TYPE[value.type])
  if (value.type !== 'array') return sink.scalar(value.type, value.value)
  sink.scalar('uint32', GGUF_VALUE_TYPE[value.itemType])
  sink.scalar('uint64', BigInt(value.value.length))
  for (let i = 0; i < value.value.length; i++) sink.scalar(value.itemType, value.value[i] as number | bigint | boolean | string)
}

/** Everything before the tensor data: header, metadata, tensor infos and padding to alignment. */
export function encodeGgufHeader(file: GgufFile): Uint8Array {
  const alignment = file.alignment ?? GGUF_DEFAULT_ALIGNMENT
  const metadata = alignment === GGUF_DEFAULT_ALIGNMENT ? file.metadata : [...file.metadata, ['general.alignment', gguf.u32(alignment)] as const]
  const sink = new ByteSink()
  sink.scalar('uint32', GGUF_MAGIC)
  sink.scalar('uint32', GGUF_VERSION)
  sink.scalar('uint64', BigInt(file.tensors.length))
  sink.scalar('uint64', BigInt(metadata.length))
  for (const [key, value] of metadata) {
    sink.string(key)
    writeValue(sink, value)
  }
  let offset = 0
  for (const tensor of file.tensors) {
    sink.string(tensor.name)
    sink.scalar('uint32', tensor.dims.length)
    for (const d of tensor.dims) sink.scalar('uint64', BigInt(d))
    sink.scalar('uint32', GGML_TYPE[tensor.type])
    sink.scalar('uint64', BigInt(offset))
    offset += padTo(tensorByteSize(tensor), alignment)
  }
  sink.zeros(padTo(sink.length, alignment) - sink.length)
  return sink.bytes()
}

/** Encodes one tensor's values in its storage type. */
export function encodeTensorData(tensor: GgufTensor): Uint8Array {
  const values = tensor.values()
  const expected = tensor.dims.reduce((a, b) => a * b, 1)
  if (values.length !== expected) throw new RangeError(`tensor ${tensor.name}: ${values.length} values for dims [${tensor.dims.join(', ')}]`)
  if (tensor.type === 'q8_0') return quantizeQ8_0(values)
  if (tensor.type === 'f32') {
    const out = new Uint8Array(values.length * 4)
    const view = new DataView(out.buffer)
    for (let i = 0; i < values.length; i++) view.setFloat32(i * 4, values[i] as number, true)
    return out
  }
  const out = new Uint8Array(values.length * 2)
  const view = new DataView(out.buffer)
  for (let i = 0; i < values.length; i++) view.setUint16(i * 2, f32ToF16Bits(values[i] as number), true)
  return out
}

/** The whole file as chunks in order; each tensor is generated only when its turn comes. */
export function* ggufChunks(file: GgufFile): Generator<Uint8Array> {
  const alignment = file.alignment ?? GGUF_DEFAULT_ALIGNMENT
  yield encodeGgufHeader(file)
  for (const tensor of file.tensors) {
    const data = encodeTensorData(tensor)
    yield data
    const padding = padTo(data.byteLength, alignment) - data.byteLength
    if (padding > 0) yield new Uint8Array(padding)
  }
}

/** The whole file in memory: for tests and small models. */
export function encodeGguf(file: GgufFile): Buffer {
  return Buffer.concat([...ggufChunks(file)])
}

export interface WrittenGguf {
  path: string
  bytes: number
  /** Hex sha256 of the file, computed while writing. */
  sha256: string
}

/** Streams a GGUF file to disk and hashes it on the way. */
export async function writeGguf(path: string, file: GgufFile): Promise<WrittenGguf> {
  const hash = createHash('sha256')
  const handle = await open(path, 'w')
  let bytes = 0
  try {
    for (const chunk of ggufChunks(file)) {
      hash.update(chunk)
      await handle.write(chunk)
      bytes += chunk.byteLength
    }
  } finally {
    await handle.close()
  }
  return { path, bytes, sha256: hash.digest('hex') }
}
