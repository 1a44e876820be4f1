import { SPECIAL_TOKENS } from './wordpiece-vocab.js'

/**
 * The tokenizer files of a BERT (uncased) model in the Hugging Face `tokenizers` format, so the
 * tiny models exercise the same tokenizer code path (normalizer, pre-tokenizer, WordPiece, template)
 * as bge-small or MiniLM.
 */

export interface TokenizerFiles {
  'tokenizer.json': unknown
  'tokenizer_config.json': unknown
  'special_tokens_map.json': unknown
}

/** The three tokenizer files for `vocab` (ids = positions), lower-casing like bert-base-uncased. */
export function buildTokenizerFiles(vocab: readonly string[], modelMaxLength: number): TokenizerFiles {
  const idOf = new Map(vocab.map((token, id) => [token, id]))
  const id = (token: string): number => idOf.get(token) as number
  const specials = Object.values(SPECIAL_TOKENS)
  const special = (token: string, typeId: number): unknown => ({ SpecialToken: { id: token, type_id: typeId } })
  const sequence = (which: 'A' | 'B', typeId: number): unknown => ({ Sequence: { id: which, type_id: typeId } })

  const tokenizer = {
    version: '1.0',
    truncation: null,
    padding: null,
    added_tokens: specials.map((content) => ({
      id: id(content),
      content,
      single_word: false,
      lstrip: false,
      rstrip: false,
      normalized: false,
      special: true,
    })),
    normalizer: { type: 'BertNormalizer', clean_text: true, handle_chinese_chars: true, strip_accents: null, lowercase: true },
    pre_tokenizer: { type: 'BertPreTokenizer' },
    post_processor: {
      type: 'TemplateProcessing',
      single: [special(SPECIAL_TOKENS.cls, 0), sequence('A', 0), special(SPECIAL_TOKENS.sep, 0)],
      pair: [special(SPECIAL_TOKENS.cls, 0), sequence('A', 0), special(SPECIAL_TOKENS.sep, 0), sequence('B', 1), special(SPECIAL_TOKENS.sep, 1)],
      special_tokens: Object.fromEntries(
        [SPECIAL_TOKENS.cls, SPECIAL_TOKENS.sep].map((t) => [t, { id: t, ids: [id(t)], tokens: [t] }]),
      ),
    },
    decoder: { type: 'WordPiece', prefix: '##', cleanup: true },
    model: {
      type: 'WordPiece',
      unk_token: SPECIAL_TOKENS.unk,
      continuing_subword_prefix: '##',
      max_input_chars_per_word: 100,
      vocab: Object.fromEntries(vocab.map((token, i) => [token, i])),
    },
  }

  const specialMap = {
    cls_token: SPECIAL_TOKENS.cls,
    mask_token: SPECIAL_TOKENS.mask,
    pad_token: SPECIAL_TOKENS.pad,
    sep_token: SPECIAL_TOKENS.sep,
    unk_token: SPECIAL_TOKENS.unk,
  }
  const config = {
    added_tokens_decoder: Object.fromEntries(
      specials.map((content) => [
        String(id(content)),
        { content, lstrip: false, normalized: false, rstrip: false, single_word: false, special: true },
      ]),
    ),
    clean_up_tokenization_spaces: true,
    ...specialMap,
    do_basic_tokenize: true,
    do_lower_case: true,
    model_max_length: modelMaxLength,
    never_split: null,
    strip_accents: null,
    tokenize_chinese_chars: true,
    tokenizer_class: 'BertTokenizer',
  }
  return { 'tokenizer.json': tokenizer, 'tokenizer_config.json': config, 'special_tokens_map.json': specialMap }
}
