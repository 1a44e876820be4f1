import type { Command } from 'commander'
import { RagtuneError } from '../errors.js'
import { apiKeyScopes, newApiKey } from '../server/auth.js'
import type { ApiKeyScope } from '../spec/api-key.js'
import type { Store } from '../spec/store.js'
import { openWorkspace } from '../workspace.js'
import { configFromCli, printJson, table } from './common.js'

/** Names end up in logs and URLs of dashboards: keep them plain. */
const NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/

/** Keys live in the index's store; an index must exist (the server needs one anyway). */
async function withKeyStore<T>(cmd: Command, fn: (store: Store) => Promise<T>): Promise<T> {
  const ws = await openWorkspace(await configFromCli(cmd), { embedder: false, requireIndex: true })
  try {
    return await fn(ws.store)
  } finally {
    await ws.close()
  }
}

export function registerKeys(program: Command): void {
  const keys = program.command('keys').description('API keys of `ragtune serve`: create (shown once, stored hashed), list, revoke')
  keys
    .command('create')
    .description('create a key and print it once; scope query (answer, chat, models, feedback) or admin (also metrics)')
    .argument('<name>', 'who the key is for (letters, digits, . _ -); recorded with every query it makes')
    .option('--scope <scope>', `${apiKeyScopes.join(' | ')}`, 'query')
    .option('--json', 'print {name, scope, key, createdAt} as JSON')
    .action(async (name: string, flags: { scope: string; json?: boolean }, cmd: Command) => {
      if (!NAME.test(name)) throw new RagtuneError('USAGE', `key names are 1-64 letters, digits, ".", "_" or "-", starting with a letter or digit; got "${name}"`)
      if (!apiKeyScopes.includes(flags.scope as ApiKeyScope)) throw new RagtuneError('USAGE', `--scope expects one of ${apiKeyScopes.join(', ')}, got "${flags.scope}"`)
      const { key, record } = newApiKey(name, flags.scope as ApiKeyScope)
      await withKeyStore(cmd, (store) => store.addApiKey(record))
      if (flags.json) return printJson({ name, scope: record.scope, key, createdAt: record.createdAt })
      process.stdout.write(
        `created API key "${name}" (scope ${record.scope}):\n\n  ${key}\n\n` +
          'store it now: it is not shown again (only its hash is kept).\n' +
          'send it as `Authorization: Bearer <key>`; OpenAI clients take it as their api key.\n',
      )
    })
  keys
    .command('list')
    .description('every key with its scope, creation time and whether it was revoked (never the key itself)')
    .option('--json', 'print the keys as JSON (without hashes)')
    .action(async (flags: { json?: boolean }, cmd: Command) => {
      const all = await withKeyStore(cmd, (store) => store.listApiKeys())
      const shown = all.map(({ name, scope, createdAt, revokedAt }) => ({ name, scope, createdAt, revokedAt }))
      if (flags.json) return printJson(shown)
      if (shown.length === 0) return void process.stdout.write('no API keys yet: create one with `ragtune keys create <name> --scope query`\n')
      const rows = shown.map((k) => [k.name, k.scope, k.createdAt, k.revokedAt ? `revoked ${k.revokedAt}` : 'active'])
      process.stdout.write(table([['name', 'scope', 'created (UTC)', 'status'], ...rows]) + '\n')
    })
  keys
    .command('revoke')
    .description('revoke the active key of that name; requests with it get 401 from then on')
    .argument('<name>', 'key name (from `ragtune keys list`)')
    .action(async (name: string, _flags: unknown, cmd: Command) => {
      const revoked = await withKeyStore(cmd, (store) => store.revokeApiKey(name))
      process.stdout.write(`revoked API key "${revoked.name}" (scope ${revoked.scope}) at ${revoked.revokedAt}\n`)
    })
}
