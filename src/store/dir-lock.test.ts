import { spawnSync } from 'node:child_process'
import { existsSync } from 'node:fs'
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises'
import { hostname, tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { RagtuneError } from '../errors.js'
import { acquireDirLock, LOCK_FILE } from './dir-lock.js'

describe('acquireDirLock', () => {
  let dir: string
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'ragtune-lock-'))
  })
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true })
  })

  it('holds the directory until released, naming the holder to a second opener', async () => {
    const lock = await acquireDirLock(dir)
    const info = JSON.parse(await readFile(join(dir, LOCK_FILE), 'utf8')) as { pid: number }
    expect(info.pid).toBe(process.pid)
    const err = await acquireDirLock(dir).catch((e: unknown) => e)
    expect(err).toBeInstanceOf(RagtuneError)
    expect((err as RagtuneError).code).toBe('STORE_LOCKED')
    expect((err as Error).message).toContain(`process ${process.pid}`)
    await lock.release()
    await lock.release()
    expect(await readdir(dir)).toEqual([])
    await (await acquireDirLock(dir)).release()
  })

  it('takes over a stale lock from a dead process on this host', async () => {
    const dead = spawnSync(process.execPath, ['-e', '']).pid
    await writeFile(join(dir, LOCK_FILE), JSON.stringify({ pid: dead, hostname: hostname(), token: 'old', since: 'then' }))
    const lock = await acquireDirLock(dir)
    expect(JSON.parse(await readFile(join(dir, LOCK_FILE), 'utf8')).pid).toBe(process.pid)
    await lock.release()
  })

  it('never judges a lock from another host or an unreadable one as stale', async () => {
    await writeFile(join(dir, LOCK_FILE), JSON.stringify({ pid: 1, hostname: `not-${hostname()}`, token: 'x', since: 'then' }))
    await expect(acquireDirLock(dir)).rejects.toMatchObject({ code: 'STORE_LOCKED' })
    await writeFile(join(dir, LOCK_FILE), 'garbage')
    await expect(acquireDirLock(dir)).rejects.toMatchObject({ code: 'STORE_LOCKED' })
  })

  it('release leaves alone a lock that someone else took over', async () => {
    const lock = await acquireDirLock(dir)
    await writeFile(join(dir, LOCK_FILE), JSON.stringify({ pid: process.pid, hostname: hostname(), token: 'someone-else', since: 'now' }))
    await lock.release()
    expect(existsSync(join(dir, LOCK_FILE))).toBe(true)
  })
})
