/**
 * Where an adapter stands. `candidate`: registered (by `adapter add` or the trainer), never served.
 * `active`: what production serves; at most one row has it (a unique index says so, not the code).
 * `retired`: served before; rollback may bring it back.
 */
export type AdapterStatus = 'candidate' | 'active' | 'retired'

/** Registry name of the base model without any adapter: a valid side of every comparison. */
export const BASE_ADAPTER = 'base'

/**
 * One LoRA adapter version. The file stays where it is; its sha256 is kept so a changed or swapped
 * file is refused at load time instead of silently serving other weights than the ones evaluated.
 */
export interface AdapterRecord {
  /** Unique; letters, digits, `.`, `_`, `-`. `base` is the reserved row of the base model. */
  name: string
  /** Provenance id written to the query log and every answer: `<name>@<sha256 prefix>`; null for base. */
  id: string | null
  /** Absolute path of the GGUF LoRA file; null for base and for remote adapters. */
  filePath: string | null
  fileSha256: string | null
  /**
   * A model a hosted platform serves in place of a file (an OpenAI fine-tuned model id such as
   * `ft:gpt-4o-mini-2024-07-18:org::abc`): the openai generator sends requests to that name.
   * Absent or null: a file adapter (or base).
   */
  remoteModel?: string | null
  /** Id of the base model it was checked against (`<file>@<sha256 prefix>`), when known. */
  baseModel: string | null
  baseModelSha256: string | null
  /** Version of the dataset it was trained on (the dataset builder's id), when known. */
  datasetVersion: string | null
  /** Hyper-parameters of the training run, as the trainer reports them. */
  trainingConfig: Record<string, unknown> | null
  /** Adapter this one was trained from (continued training), when any. */
  parent: string | null
  status: AdapterStatus
  /** ISO 8601 (UTC, milliseconds). */
  createdAt: string
  /** When it last became active; null when never served. */
  activatedAt: string | null
}

/** What happened to the active pointer, newest last; rollback walks this history back. */
export type AdapterAction = 'add' | 'promote' | 'rollback' | 'remove'

export interface AdapterEvent {
  /** Time-sortable id (ULID). */
  id: string
  time: string
  action: AdapterAction
  /** The adapter acted on: for promote and rollback, the one that became active. */
  adapter: string
  /** For promote and rollback: the adapter that was active before (null when the registry served nothing yet). */
  previous: string | null
  /** A promotion the gate did not allow, pushed through with `--force`. */
  forced: boolean
  reason: string | null
  /** The gate's decision (comparison summary) or other structured context. */
  detail: Record<string, unknown> | null
}

/** Input of Store.activateAdapter: the whole promotion or rollback, applied in ONE transaction. */
export interface ActivateAdapterInput {
  name: string
  action: 'promote' | 'rollback'
  eventId: string
  time: string
  forced: boolean
  reason: string | null
  detail: Record<string, unknown> | null
  /**
   * The adapter the caller saw active when it decided (null: none). When another writer changed the
   * pointer in between, the store refuses (ADAPTER_CONFLICT) instead of acting on a stale decision.
   */
  expectedActive: string | null
}

/**
 * The registry part of the Store: rows of adapters and the history of the active pointer, in the
 * same transactional schema as the index and the log, so promotion is one atomic update.
 */
export interface AdapterRegistryStore {
  /** Adds a candidate; an existing name is ADAPTER_EXISTS. */
  addAdapter(record: AdapterRecord, event: AdapterEvent): Promise<void>
  /** Null when no adapter has that name. */
  getAdapter(name: string): Promise<AdapterRecord | null>
  /** Base first, then by creation time. */
  listAdapters(): Promise<AdapterRecord[]>
  /** The active adapter, or null while the registry has never been promoted (the config decides then). */
  getActiveAdapter(): Promise<AdapterRecord | null>
  /**
   * Makes `name` the active adapter and the previous one retired, and records the event, all in one
   * transaction: a crash leaves either the old state or the new one. Returns the new active record.
   */
  activateAdapter(input: ActivateAdapterInput): Promise<AdapterRecord>
  /** Deletes a candidate or retired adapter (never the active one, never base); its history stays. */
  removeAdapter(name: string, event: AdapterEvent): Promise<void>
  /** Oldest first; `adapter` restricts to events about it (as the acted-on or the previous one). */
  listAdapterEvents(filter?: { adapter?: string }): Promise<AdapterEvent[]>
}
