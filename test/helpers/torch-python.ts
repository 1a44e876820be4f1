import { spawnSync } from 'node:child_process'

/**
 * A Python interpreter that imports torch, for the PyTorch reference checks. Debian's python3-torch
 * installs into the system Python (/usr/bin/python3), which is not always the `python3` on PATH
 * (pyenv shims). `.ci/run` installs it; elsewhere the tests that need it skip and say why.
 */
export function torchPython(): string | null {
  const candidates = [process.env.RAGTUNE_TORCH_PYTHON, '/usr/bin/python3', 'python3'].filter((p): p is string => !!p)
  for (const python of candidates) {
    const r = spawnSync(python, ['-c', 'import torch'], { encoding: 'utf8', timeout: 60_000 })
    if (r.status === 0) return python
  }
  return null
}
