import { fileURLToPath } from 'node:url'
import { describe, expect, it } from 'vitest'
import type { JsonLineMessage } from './json-lines-process.js'
import { parseJsonLine, runJsonLinesProcess } from './json-lines-process.js'

const FAKE_JOB = fileURLToPath(new URL('./testdata/fake-job.py', import.meta.url))

/** Runs testdata/fake-job.py in a mode, collecting messages and log lines. */
async function fake(mode: string, options: { signal?: AbortSignal; killGraceMs?: number; onMessage?: (m: JsonLineMessage) => void } = {}) {
  const messages: JsonLineMessage[] = []
  const logs: string[] = []
  const result = await runJsonLinesProcess({
    command: 'python3',
    args: [FAKE_JOB, mode],
    signal: options.signal,
    killGraceMs: options.killGraceMs,
    onMessage: (m) => {
      messages.push(m)
      options.onMessage?.(m)
    },
    onLog: (l) => logs.push(l),
  })
  return { messages, logs, result }
}

const isAlive = (pid: number): boolean => {
  try {
    process.kill(pid, 0)
    return true
  } catch {
    return false
  }
}

describe('parseJsonLine', () => {
  it('accepts objects with a string event and nothing else', () => {
    expect(parseJsonLine('  {"event":"step","step":1}\r')).toEqual({ event: 'step', step: 1 })
    expect(parseJsonLine('{"event": 3}')).toBeNull()
    expect(parseJsonLine('[{"event":"x"}]')).toBeNull()
    expect(parseJsonLine('{broken')).toBeNull()
    expect(parseJsonLine('Loading shards')).toBeNull()
  })
})

describe('runJsonLinesProcess (the launcher and its protocol, with a fake job; no training)', () => {
  it('parses events from a real Python subprocess: split writes, CRLF, unicode, a last line without newline', async () => {
    const { messages, logs, result } = await fake('protocol')
    expect(messages).toEqual([
      { event: 'start', totalSteps: 2 },
      { event: 'step', step: 1, loss: 2.5 },
      { event: 'step', step: 2, loss: 1.25, text: 'ünïcödé' },
      { event: 'done', adapterDir: 'x' },
    ])
    expect(logs).toEqual(['Loading checkpoint shards: 100%', '{not json at all', '{"no": "event field"}'])
    expect(result).toMatchObject({ code: 0, signal: null, stderrTail: 'a warning on stderr\n', logTail: logs })
  })

  it('resolves with the exit code and stderr tail of a failing process; callers decide what it means', async () => {
    const { messages, result } = await fake('crash')
    expect(messages).toEqual([])
    expect(result.code).toBe(3)
    expect(result.stderrTail).toMatch(/RuntimeError: CUDA out of memory/)
  })

  it('on abort sends SIGTERM, waits for the exit and rejects with ABORTED', async () => {
    const controller = new AbortController()
    let pid = 0
    const started = Date.now()
    const run = fake('slow', {
      signal: controller.signal,
      onMessage: (m) => {
        if (m.event === 'start') pid = m.pid as number
        if (m.event === 'step' && m.step === 2) controller.abort()
      },
    })
    await expect(run).rejects.toMatchObject({ code: 'ABORTED', details: { signal: 'SIGTERM' } })
    expect(Date.now() - started).toBeLessThan(5000)
    expect(pid).toBeGreaterThan(0)
    expect(isAlive(pid)).toBe(false)
  })

  it('kills a process that ignores SIGTERM with SIGKILL after the grace period', async () => {
    const controller = new AbortController()
    let pid = 0
    const run = fake('stubborn', {
      signal: controller.signal,
      killGraceMs: 300,
      onMessage: (m) => {
        if (m.event === 'start') pid = m.pid as number
        if (m.event === 'step' && m.step === 2) controller.abort()
      },
    })
    await expect(run).rejects.toMatchObject({ code: 'ABORTED', details: { signal: 'SIGKILL' } })
    expect(isAlive(pid)).toBe(false)
  })

  it('rejects with PROCESS_START_FAILED when the command does not exist, and at once when already aborted', async () => {
    await expect(runJsonLinesProcess({ command: '/nonexistent/python9', args: [] })).rejects.toMatchObject({ code: 'PROCESS_START_FAILED' })
    await expect(runJsonLinesProcess({ command: 'python3', args: ['-c', 'print(1)'], signal: AbortSignal.abort() })).rejects.toMatchObject({ code: 'ABORTED' })
  })

  it('stops the process and rejects with the error when onMessage throws', async () => {
    const boom = new Error('consumer failed')
    await expect(
      runJsonLinesProcess({ command: 'python3', args: [FAKE_JOB, 'slow'], onMessage: (m) => {
        if (m.event === 'step') throw boom
      } }),
    ).rejects.toBe(boom)
  })
})
