import { describe, expect, it } from 'vitest'
import { HtmlLoader, htmlToDocument } from './html.js'
import { loaderContract } from './loader.contract.js'

const page = `<!doctype html><html><head><title>Guide &amp; FAQ</title><style>p{color:red}</style>
<script>if (a < b) { document.write("<h1>nope</h1>") }</script></head>
<body><nav><a href="/">Home</a> <a href="/x">Menu item</a></nav>
<h1>Install   guide</h1><p>Run the <b>installer</b> &mdash; then&nbsp;wait.<br>Second line.</p>
<h2>Options</h2><ul><li>fast</li><li><p>safe</p></li></ul><ol start="3"><li>three</li><li>four</li></ol>
<table><tr><th>Name</th><th>Value</th></tr><tr><td>port</td><td>8080</td></tr></table>
<pre><code>let x = 1 &lt; 2
  indented</code></pre><div hidden>secret</div><noscript>enable js</noscript>
<h3></h3><p>End.</p></body></html>`

loaderContract(() => new HtmlLoader(), { path: 'a.html', bytes: Buffer.from(page) }, '# Install guide')

describe('htmlToDocument', () => {
  const doc = htmlToDocument(page)

  it('keeps headings as markdown lines and the <title> as title', () => {
    expect(doc.title).toBe('Guide & FAQ')
    expect(doc.text).toMatch(/^# Install guide$/m)
    expect(doc.text).toMatch(/^## Options$/m)
    expect(doc.text).not.toMatch(/^###/m)
  })

  it('puts paragraphs, list items and table rows on their own lines, entities decoded', () => {
    expect(doc.text).toContain('Run the installer — then wait.\nSecond line.')
    expect(doc.text).toMatch(/^- fast$/m)
    expect(doc.text).toMatch(/^- safe$/m)
    expect(doc.text).toMatch(/^3\. three\n4\. four$/m)
    expect(doc.text).toMatch(/^Name \| Value\nport \| 8080$/m)
    expect(doc.text).toContain('let x = 1 < 2\n  indented')
  })

  it('drops scripts, styles, navigation and hidden content', () => {
    for (const noise of ['nope', 'color', 'Menu item', 'secret', 'enable js', 'Guide & FAQ']) expect(doc.text).not.toContain(noise)
    expect(doc.text.endsWith('End.')).toBe(true)
  })

  it('separates blocks by exactly one blank line', () => {
    expect(doc.text).not.toMatch(/\n\n\n/)
    expect(doc.text.startsWith('# Install guide\n\nRun the')).toBe(true)
  })
})
