import { execFile } from 'node:child_process'
import { chmod, mkdir, rm, statfs, writeFile } from 'node:fs/promises'
import path from 'node:path'
import { promisify } from 'node:util'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { PGliteStore } from '../../src/store/pglite-store.js'
import { ragtune } from '../helpers/cli.js'
import { makeCorpus, markdownDoc, writeFiles } from '../helpers/corpus.js'
import { tinyConfig } from '../helpers/serve.js'
import { scaled, STRESS } from './helpers.js'

// A full disk and a read-only data folder must give a one-line error with a fix (no stack trace),
// and lose nothing: once space is back (or the folder writable), the same data folder works and
// holds everything it held before. Both need a file system with those properties: a small tmpfs
// and a read-only bind mount, which need root and `mount`. Where that is not possible (CI without
// privileges), the read-only case falls back to chmod for non-root users and the rest is skipped
// with the reason printed.
const run = promisify(execFile)
const isRoot = process.getuid?.() === 0
let cwd: string
let dataDir: string
const mounts: string[] = []

/** Runs `mount ...args target`; null when it worked, else why not. */
async function tryMount(args: string[], target: string): Promise<string | null> {
  try {
    await run('mount', [...args, target])
    if (!mounts.includes(target)) mounts.push(target)
    return null
  } catch (err) {
    return (err as Error).message.split('\n')[0]!
  }
}

/** Error output the user can act on: `error [CODE]: ...` and a fix line, never a JavaScript stack. */
function expectClearError(r: { code: number; stderr: string }, code: RegExp): void {
  expect(r.code, r.stderr).toBe(1)
  expect(r.stderr, r.stderr).toMatch(new RegExp(`^error \\[${code.source}\\]: `, 'm'))
  expect(r.stderr).toMatch(/\n {2}fix: /)
  expect(r.stderr, r.stderr).not.toMatch(/^\s+at .+\(.*:\d+:\d+\)$/m)
}

async function consistent(dir: string): Promise<{ docs: number; chunks: number }> {
  const store = await PGliteStore.open({ dataDir: path.join(dir, 'db') })
  try {
    const docs = await store.listDocuments()
    const chunks = await store.chunkCount()
    expect(chunks).toBe(docs.reduce((n, d) => n + d.chunkCount, 0))
    return { docs: docs.length, chunks }
  } finally {
    await store.close()
  }
}

let tmpfsError: string | null = 'not tried'

beforeAll(async () => {
  cwd = await makeCorpus({ 'docs/ports.md': '# Ports\n\nThe heartbeat uses port 7500 over UDP.', 'docs/keys.md': '# Keys\n\nRotate keys every 90 days.' }, 'ragtune-faults-')
  await writeFile(path.join(cwd, 'ragtune.config.json'), JSON.stringify(tinyConfig()))
  dataDir = path.join(cwd, '.ragtune')
  await mkdir(dataDir)
  tmpfsError = isRoot ? await tryMount(['-t', 'tmpfs', '-o', 'size=72m', 'tmpfs'], dataDir) : 'not running as root'
  if (tmpfsError) console.log(`storage faults: a small tmpfs could not be mounted (${tmpfsError}); the disk-full test is skipped`)
  const first = await ragtune(cwd, 'index', 'docs')
  expect(first.code, first.stderr).toBe(0)
})

afterAll(async () => {
  for (const m of mounts.reverse()) await run('umount', ['-l', m]).catch(() => undefined)
  if (cwd) {
    await chmod(dataDir, 0o755).catch(() => undefined)
    await rm(cwd, { recursive: true, force: true })
  }
})

describe('storage faults', () => {
  it('a full disk stops indexing with DISK_FULL-style errors, keeps every stored document, and the next run finishes', async (ctx) => {
    if (tmpfsError) return ctx.skip()
    const filler = path.join(dataDir, 'filler')
    const free = async (): Promise<number> => {
      const s = await statfs(dataDir)
      return s.bavail * s.bsize
    }
    await writeFile(filler, new Uint8Array(Math.max(0, (await free()) - 48 * 1024)))
    const docs: Record<string, string> = {}
    for (let i = 0; i < 25; i++) docs[`docs/more/m${i}.md`] = markdownDoc(`topic ${i}`, 12, i + 3)
    await writeFiles(cwd, docs)

    const full = await ragtune(cwd, 'index', 'docs')
    expectClearError(full, /STORE_WRITE_FAILED|DISK_FULL/)
    expect(full.stderr).toMatch(/no space left on device/i)
    if (STRESS) {
      // With the disk completely full a search works or fails with the same clear error.
      await writeFile(path.join(dataDir, 'filler2'), new Uint8Array(Math.max(0, (await free()) - 4096)))
      const search = await ragtune(cwd, 'search', 'heartbeat', '--json')
      if (search.code !== 0) expectClearError(search, /DISK_FULL|STORE_WRITE_FAILED/)
      await rm(path.join(dataDir, 'filler2'))
    }

    await rm(filler)
    const before = await consistent(dataDir)
    expect(before.docs).toBeGreaterThanOrEqual(2)
    expect(before.docs).toBeLessThan(27)
    const rerun = await ragtune(cwd, 'index', 'docs', '--json')
    expect(rerun.code, rerun.stderr).toBe(0)
    expect(JSON.parse(rerun.stdout)).toMatchObject({ plan: { unchanged: expect.arrayContaining(['keys.md', 'ports.md']) } })
    expect(await consistent(dataDir)).toMatchObject({ docs: 27 })
  })

  it('a read-only data folder gives READ_ONLY_FILE_SYSTEM (or PERMISSION_DENIED) for every command, and loses nothing', async (ctx) => {
    const before = await consistent(dataDir)
    const db = path.join(dataDir, 'db')
    if (isRoot) {
      // chmod does not stop root: a read-only bind mount does.
      const err = (await tryMount(['--bind', db], db)) ?? (await tryMount(['-o', 'remount,ro,bind'], db))
      if (err) {
        console.log(`storage faults: no read-only bind mount (${err}); the read-only test is skipped`)
        return ctx.skip()
      }
    } else {
      await chmod(db, 0o555)
    }
    try {
      const commands = [['search', 'heartbeat'], ['index', 'docs'], ['serve', '--port', '0'], ['status'], ['logs']]
      const runs = await Promise.all(commands.slice(0, scaled(3, commands.length)).map((args) => ragtune(cwd, ...args)))
      for (const r of runs) expectClearError(r, /READ_ONLY_FILE_SYSTEM|PERMISSION_DENIED/)
    } finally {
      if (isRoot) {
        await run('umount', [db])
        mounts.splice(mounts.indexOf(db), 1)
      } else {
        await chmod(db, 0o755)
      }
    }
    expect(await consistent(dataDir)).toEqual(before)
  })

  it('a file where the data folder should be gives NOT_A_DIRECTORY', async () => {
    const file = path.join(cwd, 'not-a-folder')
    await writeFile(file, 'x')
    const runs = await Promise.all([file, path.join(file, 'sub')].map((dir) => ragtune(cwd, '--data-dir', dir, 'search', 'heartbeat')))
    for (const r of runs) expectClearError(r, /NOT_A_DIRECTORY/)
  })
})
