// Builds the trainer's C++ kernels (build/Release/ragtune_kernels.node) with node-gyp, offline:
// node-gyp normally downloads Node's headers, but a Node installed from a distribution package or an
// official tarball ships them next to its binary, and --nodedir points there. A failed build is not
// fatal: it prints one warning and exits 0, and the trainer falls back to the JS kernels.
//
//   node native/build.mjs            the package's install script: a failure only warns
//   node native/build.mjs --strict   npm run build:native: a failure prints node-gyp's output, exits 1
import { spawnSync } from 'node:child_process'
import { existsSync } from 'node:fs'
import { createRequire } from 'node:module'
import { dirname, join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..')

/** The node-gyp that npm ships (npm sets npm_config_node_gyp while it runs scripts). */
function nodeGyp() {
  const candidates = [
    process.env.npm_config_node_gyp,
    join(dirname(process.execPath), '../lib/node_modules/npm/node_modules/node-gyp/bin/node-gyp.js'),
    join(dirname(process.execPath), 'node_modules/npm/node_modules/node-gyp/bin/node-gyp.js'),
  ]
  try {
    candidates.push(createRequire(import.meta.url).resolve('node-gyp/bin/node-gyp.js'))
  } catch {
    // not installed as a package: the npm-bundled copies above or npx below
  }
  const found = candidates.find((c) => c && existsSync(c))
  return found ? [process.execPath, found] : ['npx', '--no-install', 'node-gyp']
}

const nodedir = resolve(process.execPath, '../..')
const args = ['rebuild', '--jobs=max']
if (existsSync(join(nodedir, 'include/node/common.gypi'))) args.push(`--nodedir=${nodedir}`)

const [command, ...prefix] = nodeGyp()
const started = Date.now()
const result = spawnSync(command, [...prefix, ...args], { cwd: root, encoding: 'utf8', shell: process.platform === 'win32' })
if (result.status === 0) {
  console.log(`ragtune: built the native trainer kernels (build/Release/ragtune_kernels.node) in ${((Date.now() - started) / 1000).toFixed(1)} s`)
} else {
  const output = `${result.stdout ?? ''}${result.stderr ?? ''}`
  const reason = result.error?.message ?? output.split('\n').filter((l) => /error|not found|ERR!/i.test(l)).slice(0, 3).join(' | ').trim()
  const why = reason || `node-gyp exited with ${result.status}`
  if (process.argv.includes('--strict')) {
    console.error(output)
    console.error(`ragtune: could not build the native trainer kernels (${why}); they need g++, make and python3`)
    process.exitCode = 1
  } else {
    console.warn(`ragtune: WARNING: could not build the native trainer kernels (${why}); training will use the much slower JS kernels. Install g++, make and python3, then run: npm run build:native`)
  }
}
