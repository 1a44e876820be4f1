/**
 * A minimal protocol-buffers encoder: just enough wire format (varint, length-delimited, fixed32) to
 * write ONNX files without a protobuf dependency. Small fields are coalesced into one scratch buffer;
 * large byte payloads (tensor data) are kept by reference, so a 130 MB model is never copied
 * field by field.
 */

const WIRE_VARINT = 0
const WIRE_FIXED32 = 5
const WIRE_LENGTH_DELIMITED = 2

/** Payloads at least this large are referenced, not copied into the scratch buffer. */
const REFERENCE_THRESHOLD = 4096

const textEncoder = new TextEncoder()

/**
 * Encodes one protobuf message. Nest messages by encoding the child first and passing it to
 * `message()`: the child's byte length is known by then, which the wire format needs up front.
 */
export class ProtoWriter {
  private readonly parts: Uint8Array[] = []
  private scratch = new Uint8Array(256)
  private used = 0
  private flushedBytes = 0

  /** Total encoded size in bytes. */
  get byteLength(): number {
    return this.flushedBytes + this.used
  }

  /** An int32/int64/enum/bool field. Negative values use the 10-byte two's-complement form. */
  varint(field: number, value: number | bigint): this {
    this.tag(field, WIRE_VARINT)
    this.rawVarint(BigInt(value))
    return this
  }

  /** A float field (IEEE-754 single, little-endian). */
  float(field: number, value: number): this {
    this.tag(field, WIRE_FIXED32)
    this.reserve(4)
    new DataView(this.scratch.buffer, this.scratch.byteOffset + this.used, 4).setFloat32(0, value, true)
    this.used += 4
    return this
  }

  string(field: number, value: string): this {
    return this.bytes(field, textEncoder.encode(value))
  }

  /** A bytes field; large payloads are kept by reference and must not change until written out. */
  bytes(field: number, value: Uint8Array): this {
    this.tag(field, WIRE_LENGTH_DELIMITED)
    this.rawVarint(BigInt(value.byteLength))
    this.append(value)
    return this
  }

  message(field: number, child: ProtoWriter): this {
    this.tag(field, WIRE_LENGTH_DELIMITED)
    this.rawVarint(BigInt(child.byteLength))
    for (const part of child.finish()) this.append(part)
    return this
  }

  /** The encoded message as a list of chunks, in order; concatenate or write them sequentially. */
  finish(): Uint8Array[] {
    this.flush()
    return this.parts
  }

  private tag(field: number, wireType: number): void {
    this.rawVarint(BigInt((field << 3) | wireType))
  }

  private rawVarint(value: bigint): void {
    let v = BigInt.asUintN(64, value)
    this.reserve(10)
    while (v >= 0x80n) {
      this.scratch[this.used++] = Number(v & 0x7fn) | 0x80
      v >>= 7n
    }
    this.scratch[this.used++] = Number(v)
  }

  private append(data: Uint8Array): void {
    if (data.byteLength >= REFERENCE_THRESHOLD) {
      this.flush()
      this.parts.push(data)
      this.flushedBytes += data.byteLength
      return
    }
    this.reserve(data.byteLength)
    this.scratch.set(data, this.used)
    this.used += data.byteLength
  }

  private reserve(bytes: number): void {
    if (this.used + bytes <= this.scratch.byteLength) return
    const grown = new Uint8Array(Math.max(this.scratch.byteLength * 2, this.used + bytes))
    grown.set(this.scratch.subarray(0, this.used))
    this.scratch = grown
  }

  private flush(): void {
    if (this.used === 0) return
    this.parts.push(this.scratch.slice(0, this.used))
    this.flushedBytes += this.used
    this.used = 0
  }
}
