import { existsSync } from 'node:fs'
import { mkdir, rm, writeFile } from 'node:fs/promises'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { chromium, type Browser, type Page } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { TINY_LLAMA_BASE_OPTIONS } from '../src/models/tiny-llama/ensure-tiny-llama.js'
import { writeTinyLora } from '../src/models/tiny-llama/tiny-lora.js'
import { createKey, indexedWorkspace, ragtuneOk, startServe, tinyConfig, type ServeProcess } from './helpers/serve.js'

// The web dashboard end to end: a real `ragtune serve` (built CLI, tiny models, two registered
// adapters with stored eval runs) driven by Debian's chromium through playwright-core. Screenshots
// of every step land in test/artifacts/dashboard/ (git-ignored) for a person to look at.
const CHROMIUM = ['/usr/bin/chromium', '/usr/bin/chromium-browser'].find((p) => existsSync(p))
const SHOTS = fileURLToPath(new URL('./artifacts/dashboard/', import.meta.url))
const QUESTION = 'Which port does the heartbeat use?'
const SET = [
  { id: 'p1', question: QUESTION, answer: '7500', goldDocIds: ['ports.md'], category: 'facts' },
  { id: 'p2', question: 'Does the heartbeat use UDP?', label: 'yes', goldDocIds: ['ports.md'], category: 'yes-no' },
  { id: 'k1', question: 'How often are master keys rotated?', answer: 'every 90 days', goldDocIds: ['keys.md'], category: 'facts' },
  { id: 'k2', question: 'Are keys rotated daily?', label: 'no', goldDocIds: ['keys.md'], category: 'yes-no' },
]

let cwd: string
let server: ServeProcess
let browser: Browser
let page: Page
let reader: string
let admin: string
const pageErrors: string[] = []

async function shot(name: string): Promise<void> {
  await page.screenshot({ path: path.join(SHOTS, `${name}.png`), fullPage: true })
}

/** Text of the first element matching `selector` once it is visible. */
async function textOf(selector: string): Promise<string> {
  const el = page.locator(selector).first()
  await el.waitFor({ state: 'visible', timeout: 30_000 })
  return (await el.textContent()) ?? ''
}

async function goTo(section: string): Promise<void> {
  await page.getByRole('navigation', { name: 'Sections' }).getByRole('link', { name: section, exact: true }).click()
}

async function useKey(key: string): Promise<void> {
  const change = page.getByRole('button', { name: 'Change' })
  if (await change.isVisible()) await change.click()
  await page.getByLabel('API key').fill(key)
  await page.getByRole('button', { name: 'Save key' }).click()
}

describe.skipIf(!CHROMIUM)(CHROMIUM ? 'web dashboard in chromium' : 'web dashboard (skipped: no chromium binary; apt-get install chromium)', () => {
  beforeAll(async () => {
    await mkdir(SHOTS, { recursive: true })
    cwd = await indexedWorkspace(
      {
        'ports.md': '# Ports\n\nThe heartbeat uses port 7500 over UDP on the back-end network.',
        'keys.md': '# Keys\n\nRotate the master keys every 90 days with skyctl keys rotate.',
      },
      tinyConfig({ generator: { maxTokens: 12 } }),
    )
    await writeTinyLora(path.join(cwd, 'a1.gguf'), TINY_LLAMA_BASE_OPTIONS, { seed: 7 })
    await writeTinyLora(path.join(cwd, 'a2.gguf'), TINY_LLAMA_BASE_OPTIONS, { seed: 8 })
    await writeFile(path.join(cwd, 'heldout.jsonl'), SET.map((r) => JSON.stringify(r)).join('\n') + '\n')
    await ragtuneOk(cwd, 'adapter', 'add', 'a1', 'a1.gguf', '--dataset-version', 'ds-1')
    await ragtuneOk(cwd, 'adapter', 'add', 'a2', 'a2.gguf', '--parent', 'a1')
    await ragtuneOk(cwd, 'eval', 'run', '--adapter', 'base', '--set', 'heldout.jsonl', '--json')
    await ragtuneOk(cwd, 'eval', 'run', '--adapter', 'a1', '--set', 'heldout.jsonl', '--json')
    reader = await createKey(cwd, 'reader', 'query')
    admin = await createKey(cwd, 'ops', 'admin')
    server = await startServe(cwd)
    browser = await chromium.launch({ executablePath: CHROMIUM!, args: ['--no-sandbox'] })
    page = await browser.newPage({ viewport: { width: 1280, height: 900 } })
    page.on('pageerror', (err) => pageErrors.push(err.message))
    page.on('console', (msg) => {
      // A 4xx answer is logged by the browser as a failed resource load; the UI shows those itself.
      if (msg.type() === 'error' && !/Failed to load resource/.test(msg.text())) pageErrors.push(msg.text())
    })
  })

  afterAll(async () => {
    await browser?.close()
    if (server && server.child.exitCode === null) {
      server.child.kill('SIGTERM')
      await server.exited
    }
    if (cwd) await rm(cwd, { recursive: true, force: true })
  })

  it('asks for a key, then answers a question with its sources', async () => {
    await page.goto(server.url)
    await page.getByLabel('Question').fill(QUESTION)
    await page.getByRole('button', { name: 'Ask', exact: true }).click()
    // No key yet: the server's 401 message is shown as is.
    expect(await textOf('[role=alert]')).toMatch(/401 missing_api_key: this route needs an API key/)
    await shot('01-ask-without-key')

    await useKey(reader)
    await page.getByRole('button', { name: 'Ask', exact: true }).click()
    const answer = page.getByRole('article', { name: 'Answer' })
    await answer.waitFor({ timeout: 60_000 })
    const sources = await textOf('ol[aria-label=Sources]')
    expect(sources).toContain('ports.md')
    expect(await answer.textContent()).toMatch(/tiny-llama/)
    await shot('02-answer-with-sources')
  })

  it('records feedback and finds the entry, labeled, in the query log', async () => {
    await page.getByRole('button', { name: 'Good', exact: true }).click()
    expect(await textOf('.saved')).toBe('Recorded as good')
    await goTo('Query log')
    const row = page.getByRole('table', { name: 'Query log' }).getByRole('row').filter({ hasText: QUESTION })
    await row.first().waitFor()
    expect(await row.count()).toBe(1)
    expect(await row.textContent()).toContain('good')

    await page.getByLabel('Rating').selectOption('bad')
    expect(await textOf('.state.empty')).toBe('No queries match these filters.')
    await page.getByLabel('Rating').selectOption('good')
    await row.first().waitFor()
    await shot('03-query-log-filtered')

    await row.click()
    const entry = page.getByRole('article', { name: 'Log entry' })
    await entry.waitFor()
    expect(await textOf('ul.labels')).toMatch(/good[\s\S]*http · reader/)
    // A reload of a client-side route gets index.html from the server and renders the same page.
    await page.reload()
    await entry.waitFor()
    expect(await textOf('h1.question')).toBe(QUESTION)
    await shot('04-log-entry')
  })

  it('shows the failure report, datasets and jobs with their empty states', async () => {
    await goTo('Failures')
    expect(await textOf('.stats')).toMatch(/1\s*queries/)
    await shot('05-failures')
    await goTo('Datasets')
    expect(await textOf('.state.empty')).toMatch(/No dataset versions yet/)
    await goTo('Jobs')
    expect(await textOf('.state.empty')).toBe('No scheduler runs recorded.')
  })

  it('charts an adapter\'s A/B comparison and promotes it with an admin key only', async () => {
    await goTo('Adapters')
    const table = page.getByRole('table', { name: 'Adapters' })
    await table.waitFor()
    expect(await table.getByRole('row').count()).toBe(4)
    await table.getByRole('cell', { name: 'a1', exact: true }).first().click()

    const chart = page.locator('figure.forest svg[role=img]')
    await chart.waitFor({ timeout: 30_000 })
    expect(await chart.getAttribute('aria-label')).toMatch(/gain of a1 over base per category/)
    expect(await chart.locator('g.ci').count()).toBeGreaterThanOrEqual(2)
    expect(await textOf('.verdict')).toMatch(/Gate: (pass|reject)/)
    await shot('06-adapter-comparison')

    // Promotion with a query key: the server's 403 says what is needed.
    await page.getByRole('button', { name: 'Promote a1…' }).click()
    await page.getByRole('button', { name: 'Confirm promote a1' }).click()
    expect(await textOf('[role=alert]')).toMatch(/403 insufficient_scope: this route needs an API key with scope "admin"/)

    await useKey(admin)
    await page.getByLabel('force past the gate').check()
    await page.getByLabel(/Reason/).fill('dashboard test')
    await page.getByRole('button', { name: 'Confirm promote a1' }).click()
    await page.locator('h1 .badge.good', { hasText: 'active' }).waitFor()
    expect(await textOf('ul.history')).toMatch(/promote a1[\s\S]*forced[\s\S]*dashboard test/)
    // The header reads /health again: the server now answers with a1.
    await page.locator('.serving', { hasText: /\+ a1@/ }).waitFor()
    await shot('07-adapter-promoted')
    expect(pageErrors).toEqual([])
  })
})
