import { spawn } from 'node:child_process'
import { fileURLToPath } from 'node:url'

/** The built CLI, exactly as `npx ragtune` runs it (npm test builds dist/ first). */
export const BIN = fileURLToPath(new URL('../../bin/ragtune.js', import.meta.url))

export interface CliRun {
  code: number
  stdout: string
  stderr: string
}

/** Runs `ragtune ...args` in `cwd` to completion. */
export function ragtune(cwd: string, ...args: string[]): Promise<CliRun> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [BIN, ...args], { cwd, stdio: ['ignore', 'pipe', 'pipe'] })
    let stdout = ''
    let stderr = ''
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()))
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()))
    child.on('error', reject)
    child.on('exit', (code) => resolve({ code: code ?? -1, stdout, stderr }))
  })
}
