import type { Command } from 'commander'
import { writeDefaultConfig } from '../config/load-config.js'
import { PROFILE_NAMES, profileConfig } from '../config/profiles.js'
import type { RagtuneConfigInput } from '../config/schema.js'
import { TINY_MODEL_ID } from '../workspace.js'

export function registerInit(program: Command): void {
  program
    .command('init')
    .description('write ragtune.config.json with every setting and its default')
    .option('--docs <dir>', 'folder to index', 'docs')
    .option('--tiny', 'use the tiny offline models ragtune generates (for trying it out without a network)')
    .option('--force', 'overwrite an existing config')
    .option('--profile <name>', `start from a model profile: ${PROFILE_NAMES.join(', ')} (see README, "Model profiles")`)
    .action(async (opts: { docs: string; tiny?: boolean; force?: boolean; profile?: string }) => {
      const overrides: RagtuneConfigInput = { ...(opts.profile ? profileConfig(opts.profile) : {}), docs: { root: opts.docs } }
      if (opts.tiny) overrides.models = { offline: true, embedder: { model: TINY_MODEL_ID }, reranker: { model: TINY_MODEL_ID } }
      const file = await writeDefaultConfig(process.cwd(), { force: !!opts.force, overrides })
      process.stdout.write(`wrote ${file}\nnext: ragtune index ${opts.docs}   then: ragtune search "your question"\n`)
    })
}
