import { RagtuneError } from '../errors.js'
import type { CompareOptions } from '../eval/compare.js'
import { gateDecision, type GateDecision, type GateOptions } from '../eval/gate.js'
import { compareStoredRuns, findPairedRuns } from '../eval/run-lookup.js'
import { ulid } from '../observe/ulid.js'
import { BASE_ADAPTER, type AdapterEvent, type AdapterRecord } from '../spec/adapter-registry.js'
import type { Store } from '../spec/store.js'
import { requireAdapter, verifyAdapterFile } from './adapter-registry.js'

export interface PromoteOptions {
  /** Compare on this eval set (sha256); default: the newest set both sides were run on. */
  setSha256?: string
  compare?: Partial<CompareOptions>
  gate?: Partial<GateOptions>
  /** Promote even when the gate says no (or there is nothing to compare); needs `reason`. */
  force?: boolean
  reason?: string | null
}

export interface PromoteResult {
  active: AdapterRecord
  /** What was active before (null: the registry had never been promoted). */
  previous: string | null
  /** Null when forced without eval runs to compare. */
  decision: GateDecision | null
  /** The gate did not pass and `force` pushed it through. */
  forced: boolean
  runs: { active: string; candidate: string } | null
}

/**
 * Makes `name` the active adapter if it beats the active one on the gate (see eval/gate.ts), using
 * the newest eval runs of both on the same set. Before any promotion the registry compares against
 * `base`. The pointer moves in ONE store transaction that also checks nobody moved it meanwhile;
 * a running server swaps when told (its promote route) without a restart.
 */
export async function promoteAdapter(store: Store, name: string, opts: PromoteOptions = {}): Promise<PromoteResult> {
  if (opts.force && !opts.reason?.trim()) {
    throw new RagtuneError('USAGE', 'a forced promotion needs a reason: it is recorded as an override of the gate', { hint: 'add --reason "why the gate is overridden"' })
  }
  const candidate = await requireAdapter(store, name)
  const active = await store.getActiveAdapter()
  if (active?.name === name) throw new RagtuneError('ADAPTER_ALREADY_ACTIVE', `adapter "${name}" is already the active one`, { details: { name }, hint: 'nothing to do' })
  await verifyAdapterFile(candidate)
  const incumbent = active ?? (await requireAdapter(store, BASE_ADAPTER))
  // Pinning base before any promotion compares base with itself: there is nothing to gate.
  const pair = incumbent.name === candidate.name ? null : await findPairedRuns(store, side(incumbent), side(candidate), opts.setSha256 ? { setSha256: opts.setSha256 } : {})
  let decision: GateDecision | null = null
  if (pair) decision = gateDecision(await compareStoredRuns(store, pair[0], pair[1], opts.compare ?? {}), opts.gate ?? {})
  if (!decision && !opts.force && incumbent.name === candidate.name) {
    throw new RagtuneError('EVAL_MISSING', `nothing was promoted yet, and the gate compares candidates with "${BASE_ADAPTER}": it cannot judge "${BASE_ADAPTER}" itself`, {
      hint: `to pin the base model (over generator.adapter in the config): ragtune adapter promote ${BASE_ADAPTER} --force --reason "..."`,
    })
  }
  if (!decision && !opts.force) {
    throw new RagtuneError('EVAL_MISSING', `no eval runs of "${candidate.name}" and "${incumbent.name}" on one eval set${opts.setSha256 ? ' (the one asked for)' : ''}: the gate has nothing to compare`, {
      details: { candidate: candidate.name, active: incumbent.name },
      hint: `ragtune eval run --adapter ${incumbent.name} --set <file> && ragtune eval run --adapter ${candidate.name} --set <file>, then promote again (or --force --reason "...")`,
    })
  }
  if (decision && !decision.pass && !opts.force) {
    throw new RagtuneError('GATE_REJECTED', `"${candidate.name}" does not beat "${incumbent.name}":\n  - ${decision.reasons.join('\n  - ')}`, {
      details: { decision },
      hint: `keep "${incumbent.name}", or override with --force --reason "..." (recorded in the history)`,
    })
  }
  const forced = !decision?.pass
  const runs = pair ? { active: pair[0].id, candidate: pair[1].id } : null
  const record = await store.activateAdapter({
    name,
    action: 'promote',
    eventId: ulid(),
    time: new Date().toISOString(),
    forced,
    reason: opts.reason?.trim() || null,
    detail: { comparedWith: incumbent.name, runs, decision },
    expectedActive: active?.name ?? null,
  })
  return { active: record, previous: active?.name ?? null, decision, forced, runs }
}

export interface RollbackResult {
  active: AdapterRecord
  previous: string
}

/**
 * Restores the adapter that was active before the current one (from the promote event that made the
 * current one active), in one transaction. Repeated rollbacks walk further back. No gate: the
 * target was approved before, and a rollback is what you run when production just broke.
 */
export async function rollbackAdapter(store: Store, opts: { reason?: string | null } = {}): Promise<RollbackResult> {
  const active = await store.getActiveAdapter()
  if (!active) throw new RagtuneError('ADAPTER_NO_HISTORY', 'nothing was promoted yet: there is nothing to roll back', { hint: 'promote an adapter first: ragtune adapter promote <name>' })
  const events = await store.listAdapterEvents({ adapter: active.name })
  const made = events.filter((e: AdapterEvent) => e.action === 'promote' && e.adapter === active.name).at(-1)
  const target = made?.previous ?? null
  if (target === null) {
    throw new RagtuneError('ADAPTER_NO_HISTORY', `"${active.name}" was the first adapter promoted: there is no earlier one to roll back to`, {
      hint: `to serve the base model instead: ragtune adapter promote ${BASE_ADAPTER} --force --reason "..."`,
    })
  }
  const record = await requireAdapter(store, target).catch((err: unknown) => {
    throw new RagtuneError('ADAPTER_UNKNOWN', `the adapter before "${active.name}" was "${target}", which was removed from the registry`, {
      details: { target },
      hint: 'register its file again with `ragtune adapter add` and promote it, or promote another adapter',
      cause: err,
    })
  })
  await verifyAdapterFile(record)
  const restored = await store.activateAdapter({
    name: target, action: 'rollback', eventId: ulid(), time: new Date().toISOString(), forced: false, reason: opts.reason?.trim() || null, detail: null, expectedActive: active.name,
  })
  return { active: restored, previous: active.name }
}

function side(r: AdapterRecord): { adapter: string; adapterId: string | null } {
  return { adapter: r.name, adapterId: r.id }
}
