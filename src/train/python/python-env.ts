import { execFile } from 'node:child_process'
import { RagtuneError } from '../../errors.js'

/**
 * Finds out, before a long job starts, whether a Python interpreter can run the GPU trainer: which
 * of torch, transformers, peft, accelerate and bitsandbytes import, and whether CUDA is usable.
 * A missing package otherwise surfaces minutes later, after the dataset was prepared.
 */

const PACKAGES = ['torch', 'transformers', 'peft', 'accelerate', 'bitsandbytes'] as const
export type PythonPackage = (typeof PACKAGES)[number]

/** Printed after this marker, because some packages (bitsandbytes) print to stdout on import. */
const MARKER = 'RAGTUNE_PROBE '

const PROBE = `
import importlib, json, sys
r = {"version": sys.version.split()[0], "executable": sys.executable, "packages": {}, "errors": {}, "cuda": False, "cudaDevice": None}
for name in ${JSON.stringify(PACKAGES)}:
    try:
        r["packages"][name] = getattr(importlib.import_module(name), "__version__", "unknown")
    except BaseException as e:
        r["packages"][name] = None
        r["errors"][name] = (type(e).__name__ + ": " + str(e))[:300]
if r["packages"]["torch"]:
    import torch
    r["cuda"] = bool(torch.cuda.is_available())
    r["cudaDevice"] = torch.cuda.get_device_name(0) if r["cuda"] else None
print(${JSON.stringify(MARKER)} + json.dumps(r), flush=True)
`

export interface PythonEnvironment {
  /** The command that was probed, e.g. 'python3'. */
  python: string
  executable: string
  version: string
  /** Version of each package, or null when it does not import. */
  packages: Record<PythonPackage, string | null>
  /** Why a package did not import (ModuleNotFoundError, a missing CUDA library, …). */
  importErrors: Partial<Record<PythonPackage, string>>
  cuda: boolean
  cudaDevice: string | null
  /** What will be slower or unavailable (no CUDA, no 4-bit); the job still runs. */
  warnings: string[]
}

/** Runs the probe; throws PYTHON_NOT_FOUND when the interpreter cannot run at all. Never throws for missing packages. */
export function probePythonEnvironment(python = 'python3', options: { signal?: AbortSignal } = {}): Promise<PythonEnvironment> {
  return new Promise((resolve, reject) => {
    execFile(python, ['-c', PROBE], { timeout: 180_000, maxBuffer: 4 * 1024 * 1024, signal: options.signal }, (error, stdout, stderr) => {
      const line = stdout.split('\n').find((l) => l.startsWith(MARKER))
      if (!line) {
        return reject(
          new RagtuneError('PYTHON_NOT_FOUND', `could not run Python as ${JSON.stringify(python)}: ${error ? error.message : 'the probe printed nothing'}`, {
            details: { python, stderrTail: stderr.slice(-2000) },
            hint: 'install Python 3.9+ or point the trainer at one (the python option / train.python in the config)',
            cause: error,
          }),
        )
      }
      const r = JSON.parse(line.slice(MARKER.length)) as Omit<PythonEnvironment, 'python' | 'warnings' | 'importErrors'> & { errors: PythonEnvironment['importErrors'] }
      const warnings: string[] = []
      if (!r.cuda) warnings.push('CUDA is not available: training runs on the CPU in float32, which is only practical for tiny models')
      else if (!r.packages.bitsandbytes || !r.packages.accelerate) {
        warnings.push('bitsandbytes or accelerate does not import: no 4-bit (QLoRA) loading, the base model is trained in bf16 and needs ~4x the GPU memory')
      }
      resolve({ python, executable: r.executable, version: r.version, packages: r.packages, importErrors: r.errors, cuda: r.cuda, cudaDevice: r.cudaDevice, warnings })
    })
  })
}

/**
 * Probes and throws PYTHON_DEPS_MISSING when torch, transformers or peft do not import, naming each
 * one with its import error and the pip command that fixes it; otherwise returns the report.
 */
export async function checkPythonEnvironment(python = 'python3', options: { signal?: AbortSignal } = {}): Promise<PythonEnvironment> {
  const env = await probePythonEnvironment(python, options)
  const missing = (['torch', 'transformers', 'peft'] as const).filter((p) => env.packages[p] === null)
  if (missing.length > 0) {
    const why = missing.map((p) => `${p} (${env.importErrors[p] ?? 'does not import'})`).join(', ')
    throw new RagtuneError('PYTHON_DEPS_MISSING', `the GPU trainer needs torch, transformers and peft importable by ${env.executable}; missing: ${why}`, {
      details: { python, executable: env.executable, packages: env.packages, missing },
      hint: `${env.executable} -m pip install torch transformers peft accelerate bitsandbytes (bitsandbytes for 4-bit QLoRA on CUDA), or use the CPU trainer`,
    })
  }
  return env
}
