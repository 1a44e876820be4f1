import { afterEach, describe, expect, it, vi } from 'vitest'
import { RagtuneError } from '../../errors.js'
import { JsKernels } from './js-kernels.js'
import { loadKernels } from './load-kernels.js'
import { tryNative } from './kernels.contract.js'

describe('loadKernels', () => {
  afterEach(() => {
    vi.doUnmock('node:fs')
    vi.resetModules()
  })

  it("'js' gives the reference kernels on one thread", () => {
    const k = loadKernels({ backend: 'js', threads: 4 })
    expect(k).toBeInstanceOf(JsKernels)
    expect([k.backend, k.threads, k.warnings]).toEqual(['js', 1, []])
  })

  it.skipIf(!tryNative(2).kernels)("'auto' and 'native' give the addon, one instance per thread count", () => {
    const k = loadKernels({ threads: 2 })
    expect([k.backend, k.threads]).toEqual(['native', 2])
    expect(loadKernels({ backend: 'native', threads: 2 })).toBe(k)
    expect(loadKernels({ backend: 'native', threads: 1 }).threads).toBe(1)
  })

  it('rejects bad options', () => {
    for (const threads of [0, 1.5, 257, Number.NaN]) {
      expect(() => loadKernels({ threads })).toThrow(expect.objectContaining({ code: 'INVALID_OPTIONS' }))
    }
    expect(() => loadKernels({ backend: 'gpu' as 'js' })).toThrow(expect.objectContaining({ code: 'INVALID_OPTIONS' }))
  })

  it("without the addon: 'auto' falls back to JS with a warning, 'native' says how to build it", async () => {
    vi.resetModules()
    vi.doMock('node:fs', async (importOriginal) => {
      const fs = await importOriginal<typeof import('node:fs')>()
      return { ...fs, existsSync: (p: string) => !String(p).endsWith('.node') && fs.existsSync(p) }
    })
    const fresh = await import('./load-kernels.js')
    const k = fresh.loadKernels({ threads: 2 })
    expect(k.backend).toBe('js')
    expect(k.warnings.join('\n')).toMatch(/native trainer kernels could not be loaded.*npm run build:native/)
    let thrown: unknown
    try {
      fresh.loadKernels({ backend: 'native' })
    } catch (err) {
      thrown = err
    }
    expect((thrown as RagtuneError).code).toBe('NATIVE_KERNELS_UNAVAILABLE')
    expect((thrown as RagtuneError).hint).toMatch(/npm run build:native.*g\+\+/)
  })
})
