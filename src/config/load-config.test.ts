import { mkdtemp, readFile, writeFile } from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import { describe, expect, it } from 'vitest'
import { RagtuneError } from '../errors.js'
import { loadConfig, parseConfig, writeDefaultConfig } from './load-config.js'

describe('config', () => {
  it('fills every default from an empty object', () => {
    const c = parseConfig({})
    expect(c.chunking).toEqual({ chunkTokens: 512, overlapTokens: 64 })
    expect(c.retrieval).toMatchObject({ mode: 'hybrid', denseK: 20, lexicalK: 20, topK: 4, rerank: true })
    expect(c.dataDir).toBe('.ragtune')
  })

  it('names an unknown key with its full path', () => {
    expect(() => parseConfig({ retrieval: { topk: 4 } })).toThrowError(/unknown key "retrieval.topk"/)
  })

  it('names a wrong type with the expected type', () => {
    try {
      parseConfig({ chunking: { chunkTokens: 'big' } })
      expect.unreachable()
    } catch (err) {
      expect(err).toBeInstanceOf(RagtuneError)
      expect((err as RagtuneError).code).toBe('CONFIG_INVALID')
      expect((err as Error).message).toMatch(/"chunking.chunkTokens": expected number, got string "big"/)
    }
  })

  it('rejects an overlap as large as the chunk', () => {
    expect(() => parseConfig({ chunking: { chunkTokens: 64, overlapTokens: 64 } })).toThrowError(/overlapTokens/)
  })

  it('init writes a file that loads back to the same config, and refuses to overwrite', async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'ragtune-config-'))
    const file = await writeDefaultConfig(dir)
    const loaded = await loadConfig({ cwd: dir })
    expect(loaded.file).toBe(file)
    expect(loaded.config).toEqual(JSON.parse(await readFile(file, 'utf8')))
    await expect(writeDefaultConfig(dir)).rejects.toThrowError(/already exists/)
  })

  it('reports invalid JSON and applies overrides', async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'ragtune-config-'))
    await writeFile(path.join(dir, 'ragtune.config.json'), '{"dataDir": ')
    await expect(loadConfig({ cwd: dir })).rejects.toThrowError(/not valid JSON/)
    await writeFile(path.join(dir, 'ragtune.config.json'), '{"retrieval": {"topK": 7}}')
    const loaded = await loadConfig({ cwd: dir, overrides: { retrieval: { mode: 'lexical' } } })
    expect(loaded.config.retrieval).toMatchObject({ topK: 7, mode: 'lexical' })
  })
})
