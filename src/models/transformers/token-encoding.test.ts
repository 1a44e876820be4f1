import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { PreTrainedTokenizer } from '@huggingface/transformers'
import { AutoTokenizer } from '@huggingface/transformers'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { generateTinyModel } from '../tiny/tiny-model.js'
import { TokenEncoder } from './token-encoding.js'

let root: string
let tokenizer: PreTrainedTokenizer

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'ragtune-tokens-'))
  const info = await generateTinyModel(join(root, 'tiny'), { kind: 'cross-encoder', maxPositions: 16 })
  tokenizer = await AutoTokenizer.from_pretrained(info.dir, { local_files_only: true })
})
afterAll(async () => {
  await rm(root, { recursive: true, force: true })
})

describe('TokenEncoder', () => {
  it('matches the tokenizer when nothing needs truncating', () => {
    const encoder = new TokenEncoder(tokenizer, 16)
    expect(encoder.maxLength).toBe(16)
    expect([encoder.singleOverhead, encoder.pairOverhead]).toEqual([2, 3])
    expect(encoder.encode('the model').ids).toEqual(tokenizer.encode('the model'))
    const pair = encoder.encodePair('the query', 'a passage')
    const expected = tokenizer._tokenizer.encode('the query', { text_pair: 'a passage', return_token_type_ids: true })
    expect(pair).toEqual({ ids: expected.ids, typeIds: expected.token_type_ids })
  })

  it('truncates the text but keeps [CLS] ... [SEP]', () => {
    const encoder = new TokenEncoder(tokenizer, 16)
    const ids = encoder.encode('one two three four five six seven eight nine ten eleven twelve thirteen fourteen fifteen sixteen').ids
    expect(ids).toHaveLength(16)
    expect(ids[0]).toBe(tokenizer.convert_tokens_to_ids('[CLS]'))
    expect(ids.at(-1)).toBe(tokenizer.sep_token_id)
  })

  it('truncates pairs longest-first, so a long passage cannot push the query out', () => {
    const encoder = new TokenEncoder(tokenizer, 16)
    const { ids, typeIds } = encoder.encodePair('the query', Array.from({ length: 40 }, () => 'the').join(' '))
    expect(ids).toHaveLength(16)
    expect(tokenizer.decode(ids.slice(0, 4))).toBe('[CLS] the query [SEP]')
    expect(typeIds.filter((t) => t === 1)).toHaveLength(12)
  })

  it('pads batches on the right with attention 0', () => {
    const encoder = new TokenEncoder(tokenizer, 16)
    const t = encoder.toTensors([encoder.encode('the'), encoder.encode('the model answers')])
    expect(t.input_ids.dims).toEqual([2, 5])
    expect(Array.from(t.attention_mask.data as BigInt64Array)).toEqual([1n, 1n, 1n, 0n, 0n, 1n, 1n, 1n, 1n, 1n])
  })
})
