import type { Llama, LlamaGrammar } from 'node-llama-cpp'
import { RagtuneError } from '../../errors.js'

/**
 * JSON Schema → llama.cpp grammar, through node-llama-cpp, with one change: numbers may not use an
 * exponent. node-llama-cpp's number rule allows `e` followed by up to 16 digits, so a model can
 * write an "integer" like 5791E4477 that JSON.parse turns into Infinity, which no schema accepts.
 * Plain notation still covers every value a model reasonably writes. If node-llama-cpp changes its
 * rule, the text below no longer matches and its grammar is used unchanged.
 */

const EXPONENT = ' ([eE] [-+]? ("0" | [1-9] [0-9]{0,15}))?'

type JsonSchemaArgument = Parameters<Llama['createGrammarForJsonSchema']>[0]

/** Compiles a grammar for `schema`; throws `SCHEMA_INVALID` for schemas node-llama-cpp cannot express. */
export async function jsonSchemaGrammar(llama: Llama, schema: Record<string, unknown>): Promise<LlamaGrammar> {
  try {
    // node-llama-cpp types the schema subset it supports; anything else it reports at runtime.
    const json = await llama.createGrammarForJsonSchema(schema as JsonSchemaArgument)
    const grammar = json.grammar.split(EXPONENT).join('')
    if (grammar === json.grammar) return json
    return await llama.createGrammar({ grammar, stopGenerationTriggers: json.stopGenerationTriggers, trimWhitespaceSuffix: json.trimWhitespaceSuffix })
  } catch (error) {
    throw new RagtuneError('SCHEMA_INVALID', `node-llama-cpp cannot turn this JSON Schema into a grammar: ${String(error)}`, {
      details: { schema },
      hint: 'use the supported subset: object, array, string (minLength, maxLength, format), number, integer, boolean, null, enum, const, oneOf, $defs',
      cause: error,
    })
  }
}
