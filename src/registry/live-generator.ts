import type { ChatMessage, GenerateOptions, GenerateResult, Generator } from '../spec/generator.js'

/** What should be served now: a key that names it (to tell whether anything changed) and how to load it. */
export interface GeneratorChoice {
  key: string
  load(): Promise<Generator>
}

/** One request's hold on a generator: every call of the request goes to the same one. */
export interface GeneratorLease {
  generator: Generator
  /** Idempotent. */
  release(): void
}

interface Slot {
  key: string
  generator: Generator
  leases: number
  retired: boolean
}

/**
 * A generator that can be replaced while serving. Requests take a lease (`acquire`) and keep that
 * generator to the end, so an answer, its JSON repair retry and its log row all name one adapter;
 * `refresh` builds the newly chosen generator first and then swaps the pointer, so new requests go
 * to the new one at once, and the old one is disposed when its last lease is released.
 */
export class LiveGenerator implements Generator {
  private slot: Slot
  private switching: Promise<unknown> = Promise.resolve()
  private readonly disposing = new Set<Promise<void>>()
  private closed = false

  private constructor(
    first: GeneratorChoice,
    generator: Generator,
    private readonly choose: () => Promise<GeneratorChoice>,
    private readonly onDisposeError: (err: unknown) => void,
  ) {
    this.slot = { key: first.key, generator, leases: 0, retired: false }
  }

  /** Loads what `choose` picks now; `choose` is asked again on every `refresh`. */
  static async open(choose: () => Promise<GeneratorChoice>, opts: { onDisposeError?: (err: unknown) => void } = {}): Promise<LiveGenerator> {
    const first = await choose()
    return new LiveGenerator(first, await first.load(), choose, opts.onDisposeError ?? (() => undefined))
  }

  get id(): string {
    return this.slot.generator.id
  }

  get adapter(): string | null {
    return this.slot.generator.adapter
  }

  /** Key of the choice being served (e.g. the registry's adapter id, `base` or `config`). */
  get key(): string {
    return this.slot.key
  }

  acquire(): GeneratorLease {
    const slot = this.slot
    slot.leases++
    let released = false
    return {
      generator: slot.generator,
      release: () => {
        if (released) return
        released = true
        slot.leases--
        if (slot.retired && slot.leases === 0) this.retire(slot)
      },
    }
  }

  /** One call on one lease; requests that call several times should hold a lease themselves. */
  async doGenerate(messages: ChatMessage[], opts?: GenerateOptions): Promise<GenerateResult> {
    const lease = this.acquire()
    try {
      return await lease.generator.doGenerate(messages, opts)
    } finally {
      lease.release()
    }
  }

  /**
   * Asks what should be served and swaps to it when it differs from what is served. Serialized: two
   * promotions in quick succession swap in order. When loading fails the old generator keeps serving
   * and the error is thrown to the caller.
   */
  refresh(): Promise<{ swapped: boolean; key: string }> {
    const run = this.switching.then(async () => {
      const choice = await this.choose()
      if (this.closed || choice.key === this.slot.key) return { swapped: false, key: this.slot.key }
      const next = await choice.load()
      if (this.closed) {
        await next.dispose()
        return { swapped: false, key: this.slot.key }
      }
      const old = this.slot
      this.slot = { key: choice.key, generator: next, leases: 0, retired: false }
      old.retired = true
      if (old.leases === 0) this.retire(old)
      return { swapped: true, key: choice.key }
    })
    this.switching = run.catch(() => undefined)
    return run
  }

  /** Disposes the served generator (after in-flight calls) and waits for retired ones to finish. */
  async dispose(): Promise<void> {
    this.closed = true
    await this.switching
    await this.slot.generator.dispose()
    await Promise.all(this.disposing)
  }

  private retire(slot: Slot): void {
    const done = slot.generator.dispose().catch(this.onDisposeError).finally(() => this.disposing.delete(done))
    this.disposing.add(done)
  }
}

/** A lease on any generator: a LiveGenerator's current one, or a fixed generator as it is. */
export function leaseGenerator(generator: Generator): GeneratorLease {
  return generator instanceof LiveGenerator ? generator.acquire() : { generator, release: () => undefined }
}
