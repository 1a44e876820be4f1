import { existsSync } from 'node:fs'
import { describe, expect, it } from 'vitest'
import { checkPythonEnvironment, probePythonEnvironment } from './python-env.js'

/** Debian's interpreter, which has python3-torch on this machine but no transformers or peft. */
const DEBIAN_PYTHON = '/usr/bin/python3'

describe('checkPythonEnvironment', () => {
  it('reports which packages import and throws PYTHON_DEPS_MISSING naming the missing ones and the pip fix', async () => {
    const env = await probePythonEnvironment('python3')
    expect(env.version).toMatch(/^3\.\d+/)
    expect(env.packages.transformers).toBeNull()
    expect(env.importErrors.transformers).toMatch(/ModuleNotFoundError: No module named 'transformers'/)
    expect(env.cuda).toBe(false)
    expect(env.warnings.join('\n')).toMatch(/CUDA is not available/)
    const error = await checkPythonEnvironment('python3').catch((e: unknown) => e)
    expect(error).toMatchObject({ code: 'PYTHON_DEPS_MISSING', details: { missing: expect.arrayContaining(['transformers', 'peft']) } })
    expect((error as Error).message).toMatch(/needs torch, transformers and peft importable by .*missing: .*transformers \(ModuleNotFoundError/s)
    expect((error as Error).message).toMatch(/fix: .* -m pip install torch transformers peft/)
  })

  it.skipIf(!existsSync(DEBIAN_PYTHON))('sees torch where it is installed and still names transformers and peft as missing', async () => {
    const env = await probePythonEnvironment(DEBIAN_PYTHON)
    if (env.packages.torch === null) return // python3-torch not installed (yet) on this machine
    expect(env.packages.torch).toMatch(/^\d+\.\d+/)
    const error = await checkPythonEnvironment(DEBIAN_PYTHON).catch((e: unknown) => e)
    expect(error).toMatchObject({ code: 'PYTHON_DEPS_MISSING' })
    expect((error as Error).message).not.toMatch(/missing: torch/)
    expect((error as Error).message).toMatch(/transformers \(.*\), peft \(/)
  })

  it('throws PYTHON_NOT_FOUND for an interpreter that does not exist', async () => {
    await expect(checkPythonEnvironment('/nonexistent/python3.99')).rejects.toMatchObject({ code: 'PYTHON_NOT_FOUND', message: expect.stringMatching(/could not run Python/) })
  })
})
