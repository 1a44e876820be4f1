import { parse, HTMLElement, TextNode, type Node } from 'node-html-parser'
import type { LoadedDocument, LoadInput, Loader } from '../../spec/loader.js'
import { throwIfAborted } from '../../errors.js'
import { decodeText } from './checks.js'

/**
 * HTML pages become markdown-shaped text: headings as `#` lines (so the markdown-aware chunker can
 * split on them) and one line per paragraph, list item and table row. Scripts, styles and
 * navigation are dropped because they repeat on every page and drown the content in search.
 */
export class HtmlLoader implements Loader {
  readonly extensions = ['html', 'htm'] as const

  async doLoad(input: LoadInput, opts: { signal?: AbortSignal } = {}): Promise<LoadedDocument> {
    throwIfAborted(opts.signal)
    return htmlToDocument(decodeText(input))
  }
}

/** Elements whose content is never readable text (or is site chrome repeated on every page). */
const DROPPED = new Set(['head', 'script', 'style', 'noscript', 'template', 'svg', 'canvas', 'iframe', 'object', 'nav', 'button', 'select'])
/** Elements that start a new paragraph (blank line before and after). */
const BLOCKS = new Set([
  'address', 'article', 'aside', 'blockquote', 'body', 'details', 'dialog', 'div', 'dl', 'fieldset', 'figcaption',
  'figure', 'footer', 'form', 'header', 'hr', 'html', 'main', 'ol', 'p', 'section', 'summary', 'table', 'ul',
])
/** Elements that sit on their own line without a blank line around them. */
const LINES = new Set(['li', 'tr', 'dt', 'dd', 'caption', 'thead', 'tbody', 'tfoot'])

/**
 * Shared by the html and docx loaders (mammoth turns .docx into html), so both formats keep their
 * headings the same way.
 */
export function htmlToDocument(html: string): LoadedDocument {
  // The parser keeps a doctype as a text node; it is not content.
  const root = parse(html.replace(/^\s*<!doctype[^>]*>/i, ''), {
    lowerCaseTagName: true,
    comment: false,
    // script/style bodies are skipped by the parser itself instead of being parsed as markup.
    blockTextElements: { script: false, style: false, noscript: false, template: false },
    // Unclosed elements stay where they are. The parser's repair of them costs quadratic time (a
    // 500 KB file of unclosed <div>s blocked the indexer for minutes); text order is the same.
    parseNoneClosedTags: true,
  })
  const title = collapse(root.querySelector('title')?.text ?? '')
  const out = new TextWriter()
  walk(root, out)
  const text = out.finish()
  return title === '' ? { text } : { text, title }
}

function walk(node: Node, out: TextWriter): void {
  if (node instanceof TextNode) {
    out.inline(node.text)
    return
  }
  if (!(node instanceof HTMLElement)) return
  const tag = node.rawTagName?.toLowerCase() ?? ''
  if (DROPPED.has(tag) || isHidden(node)) return
  const level = /^h([1-6])$/.exec(tag)?.[1]
  if (level !== undefined) {
    const heading = collapse(node.text)
    if (heading !== '') out.block(`${'#'.repeat(Number(level))} ${heading}`)
    return
  }
  if (tag === 'br') return out.newline()
  if (tag === 'pre') return out.block(node.text.replace(/^\n/, '').trimEnd())
  const isBlock = BLOCKS.has(tag)
  const isLine = LINES.has(tag)
  if (isBlock) out.paragraph()
  if (isLine) out.newline()
  if (tag === 'li') out.prefix(listMarker(node))
  if ((tag === 'td' || tag === 'th') && node.previousElementSibling) out.inline(' | ')
  for (const child of node.childNodes) walk(child, out)
  if (isBlock) out.paragraph()
  if (isLine) out.newline()
}

function isHidden(el: HTMLElement): boolean {
  return el.hasAttribute('hidden') || el.getAttribute('aria-hidden') === 'true' || el.getAttribute('role') === 'navigation'
}

function listMarker(li: HTMLElement): string {
  const list = li.parentNode
  if (list?.rawTagName?.toLowerCase() !== 'ol') return '- '
  const items = list.children.filter((c) => c.rawTagName?.toLowerCase() === 'li')
  const start = Number(list.getAttribute('start') ?? '1')
  return `${(Number.isFinite(start) ? start : 1) + items.indexOf(li)}. `
}

function collapse(s: string): string {
  return s.replace(/\s+/g, ' ').trim()
}

/** Accumulates inline text and emits it as lines; blank lines mark paragraph boundaries. */
class TextWriter {
  private readonly lines: string[] = []
  private current = ''
  private pendingPrefix = ''

  inline(raw: string): void {
    this.current += raw.replace(/\s+/g, ' ')
  }

  prefix(marker: string): void {
    this.pendingPrefix = marker
  }

  newline(): void {
    const line = collapse(this.current)
    this.current = ''
    if (line === '') return
    this.lines.push(this.pendingPrefix + line)
    this.pendingPrefix = ''
  }

  paragraph(): void {
    this.newline()
    if (this.lines.length > 0 && this.lines[this.lines.length - 1] !== '') this.lines.push('')
  }

  block(text: string): void {
    this.paragraph()
    if (text === '') return
    this.lines.push(text)
    this.paragraph()
  }

  finish(): string {
    this.newline()
    return this.lines.join('\n').trim()
  }
}
