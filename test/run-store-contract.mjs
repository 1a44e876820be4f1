#!/usr/bin/env node
// `npm run test:store -- --url postgres://user@host:5432/db`: the Store contract suite (dense search
// included) against your own PostgreSQL + pgvector server; see src/store/postgres-user-server.test.ts.
import { spawnSync } from 'node:child_process'

const args = process.argv.slice(2)
const at = args.indexOf('--url')
const url = at >= 0 ? args[at + 1] : args.find((a) => a.startsWith('--url='))?.slice(6)
if (!url || !/^postgres(ql)?:\/\//.test(url)) {
  process.stderr.write('usage: npm run test:store -- --url postgres://user@host:5432/db   (password in PGPASSWORD)\n')
  process.exit(2)
}
const res = spawnSync('npx', ['vitest', 'run', 'src/store/postgres-user-server.test.ts'], { stdio: 'inherit', env: { ...process.env, RAGTUNE_TEST_STORE_URL: url } })
process.exit(res.status ?? 1)
