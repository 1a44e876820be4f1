import { describe, expect, it } from 'vitest'
import { parseTargets } from './train-config.js'

describe('parseTargets', () => {
  it('reads short, Hugging Face and GGUF names and all-linear, without duplicates', () => {
    expect(parseTargets('q,k,v,o')).toEqual(['attn_q', 'attn_k', 'attn_v', 'attn_output'])
    expect(parseTargets('q_proj, down_proj, attn_q')).toEqual(['attn_q', 'ffn_down'])
    expect(parseTargets('all-linear')).toHaveLength(7)
  })

  it('rejects unknown names, including ones an object literal inherits', () => {
    for (const bad of ['x', 'toString', 'constructor', '__proto__']) {
      expect(() => parseTargets(bad)).toThrow(expect.objectContaining({ code: 'INVALID_OPTIONS' }))
    }
    expect(() => parseTargets(' , ')).toThrow(/no LoRA targets given/)
  })
})
