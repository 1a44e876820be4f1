import { spawn } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { RagtuneError } from '../errors.js'

/** The CLI the demo drives: the same file `npx ragtune` runs. */
export const RAGTUNE_BIN = fileURLToPath(new URL('../../bin/ragtune.js', import.meta.url))

export interface CommandRun {
  code: number
  stdout: string
}

export interface ShowOptions {
  /** Print at most this many lines of the command's output (the rest is counted); default all. */
  maxLines?: number
  /** Print only the part of the output this returns. */
  pick?: (stdout: string) => string
  /** A non-zero exit is an outcome to report, not a failure of the demo. */
  allowFailure?: boolean
}

/** `ragtune a "b c"` as a person would type it. */
export function shellLine(args: readonly string[]): string {
  return ['ragtune', ...args].map((a) => (/^[\w@%+=:,./-]+$/.test(a) ? a : `'${a.replace(/'/g, `'\\''`)}'`)).join(' ')
}

/**
 * Runs the real `ragtune` commands one after the other in the demo folder, printing each command
 * line and its output (indented) as it goes. Progress bars and errors go straight to stderr; a
 * command that fails stops the demo with the command named, unless the caller expects failure.
 */
export class CliRunner {
  constructor(private readonly cwd: string, private readonly print: (line: string) => void) {}

  async run(args: string[], show: ShowOptions = {}): Promise<CommandRun> {
    this.print(`  $ ${shellLine(args)}`)
    const { code, stdout } = await this.spawn(args)
    const text = (show.pick ? show.pick(stdout) : stdout).replace(/\s+$/, '')
    const lines = text === '' ? [] : text.split('\n')
    const shown = show.maxLines !== undefined ? lines.slice(0, show.maxLines) : lines
    for (const l of shown) this.print(`    ${l}`.trimEnd())
    if (shown.length < lines.length) this.print(`    … (${lines.length - shown.length} more lines)`)
    // Ctrl-C reaches the command too (same process group): it stops cleanly, and so does the demo.
    if (code === 130) throw new RagtuneError('ABORTED', `interrupted during \`${shellLine(args)}\``)
    if (code !== 0 && !show.allowFailure) {
      throw new RagtuneError('DEMO_STEP_FAILED', `\`${shellLine(args)}\` exited with code ${code} (its error is printed above)`, {
        details: { args, code },
        hint: `run it yourself in ${this.cwd} to look closer; \`ragtune demo\` starts over on its next run`,
      })
    }
    return { code, stdout }
  }

  private spawn(args: string[]): Promise<{ code: number; stdout: string }> {
    return new Promise((resolve, reject) => {
      const child = spawn(process.execPath, [RAGTUNE_BIN, ...args], { cwd: this.cwd, stdio: ['ignore', 'pipe', 'inherit'] })
      let stdout = ''
      // Decoded as a stream: a chunk boundary inside a multi-byte character does not garble it.
      child.stdout.setEncoding('utf8')
      child.stdout.on('data', (d: string) => (stdout += d))
      child.on('error', reject)
      child.on('close', (code) => resolve({ code: code ?? 1, stdout }))
    })
  }
}
