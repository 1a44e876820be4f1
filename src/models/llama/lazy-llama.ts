import type * as NodeLlamaCpp from 'node-llama-cpp'

/**
 * node-llama-cpp, loaded on first use. Importing it takes about half a second, so modules that
 * every CLI call reaches (the registry, the trainer, the token counter) import it through here
 * and `ragtune --version`, `jobs` or `logs` never pay for a backend they do not use.
 */

type NodeLlamaCppModule = typeof NodeLlamaCpp

let loading: Promise<NodeLlamaCppModule> | undefined
let loaded: NodeLlamaCppModule | undefined

/** The node-llama-cpp module, imported once per process. */
export function nodeLlamaCpp(): Promise<NodeLlamaCppModule> {
  loading ??= import('node-llama-cpp').then((module) => (loaded = module))
  return loading
}

/**
 * The module for synchronous code that already holds a model: a `LlamaModel` only comes from
 * `llamaRuntime()`, which imports the module first.
 */
export function loadedNodeLlamaCpp(): NodeLlamaCppModule {
  if (!loaded) throw new Error('node-llama-cpp is not loaded yet: load the model through llamaRuntime() first')
  return loaded
}

/** node-llama-cpp's `readGgufFileInfo`, without importing the backend until it is called. */
export async function readGgufFileInfo(...args: Parameters<NodeLlamaCppModule['readGgufFileInfo']>): ReturnType<NodeLlamaCppModule['readGgufFileInfo']> {
  return (await nodeLlamaCpp()).readGgufFileInfo(...args)
}

/** node-llama-cpp's `resolveModelFile`, without importing the backend until it is called. */
export async function resolveModelFile(...args: Parameters<NodeLlamaCppModule['resolveModelFile']>): ReturnType<NodeLlamaCppModule['resolveModelFile']> {
  return (await nodeLlamaCpp()).resolveModelFile(...args)
}
