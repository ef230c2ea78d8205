import type { Operation } from '../evercycle/operation.js'
import type { Role } from '../store/accounts-repository.js'

/** Whether a flow owned by an account of this role may call this operation. */
export type EvercyclePolicy = (role: Role, op: Operation) => boolean

/**
 * `evercycle` nodes call Evercycle as the gateway's service identity, so which operations a flow may call is
 * decided by its owner's role: admins may call every operation; users those FLOWRUNNER_EVERCYCLE_OPERATIONS
 * lists (`*` for all) or, when it is unset, the read-only (GET) ones.
 */
export function evercyclePolicy(userOperations: readonly string[] | undefined): EvercyclePolicy {
  const listed = userOperations === undefined ? undefined : new Set(userOperations)
  return (role, op) => role === 'admin' || (listed === undefined ? op.method === 'GET' : listed.has('*') || listed.has(op.name))
}

/** The reason a flow's node is refused, at save and at run time alike. */
export function forbiddenOperation(operation: string): string {
  return `Evercycle operation "${operation}" is forbidden for this flow's owner (FLOWRUNNER_EVERCYCLE_OPERATIONS)`
}

interface Entry {
  role: Promise<Role | undefined>
  expiresAt: number
}

/**
 * The role of each flow's owner, looked up when its node runs and kept a few seconds: a flow calling Evercycle
 * in a loop, or many runs of one flow, cost one lookup per window, and a demotion applies within it.
 */
export class OwnerRoles {
  private readonly entries = new Map<string, Entry>()

  constructor(
    private readonly lookup: (flowId: string) => Promise<Role | undefined>,
    private readonly ttlMs = 5_000,
    private readonly maxEntries = 10_000
  ) {}

  get(flowId: string): Promise<Role | undefined> {
    const now = Date.now()
    const cached = this.entries.get(flowId)
    if (cached !== undefined && cached.expiresAt > now) return cached.role
    if (this.entries.size >= this.maxEntries) {
      for (const [id, e] of this.entries) if (e.expiresAt <= now) this.entries.delete(id)
      if (this.entries.size >= this.maxEntries) this.entries.clear()
    }
    const role = this.lookup(flowId)
    const entry = { role, expiresAt: now + this.ttlMs }
    this.entries.set(flowId, entry)
    // a failed lookup is not remembered
    role.catch(() => {
      if (this.entries.get(flowId) === entry) this.entries.delete(flowId)
    })
    return role
  }
}
