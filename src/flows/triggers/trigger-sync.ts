import { randomBytes } from 'node:crypto'
import type { Queryable } from '../../store/driver.js'
import { TriggersRepository, type TriggerRow } from '../../store/triggers-repository.js'
import { Schedule } from './cron.js'
import type { TriggerSpec } from './trigger-schema.js'

/** An unguessable webhook id: 192 random bits, not derived from the flow. */
export function newHookId(): string {
  return `hook_${randomBytes(24).toString('base64url')}`
}

/** The first tick after `now`; null when the schedule cannot be read (it was validated on save) or never fires. */
export function nextTick(spec: Extract<TriggerSpec, { type: 'schedule' }>, now: Date): Date | null {
  const parsed = Schedule.parse(spec.cron, spec.timezone)
  return 'schedule' in parsed ? (parsed.schedule.next(now) ?? null) : null
}

function sameSchedule(a: Record<string, unknown>, b: TriggerSpec): boolean {
  return b.type === 'schedule' && a.cron === b.cron && a.timezone === b.timezone
}

/**
 * Makes a flow's trigger rows those of its new version, in the version's transaction. A trigger kept (same id
 * and type) keeps its webhook id, its history and its paused state (unless the definition's own `enabled`
 * changed); a schedule keeps its next tick unless its cron or zone changed. Triggers no longer defined go.
 */
export async function syncTriggers(tx: Queryable, flowId: string, specs: readonly TriggerSpec[], now: Date): Promise<void> {
  const repo = new TriggersRepository(tx)
  const existing = new Map<string, TriggerRow>((await repo.list(flowId, true)).map((t) => [t.triggerId, t]))
  const gone = [...existing.values()].filter((t) => !specs.some((s) => s.id === t.triggerId && s.type === t.type)).map((t) => t.triggerId)
  await repo.delete(flowId, gone)
  for (const [position, spec] of specs.entries()) {
    const definition: Record<string, unknown> = { ...spec, position }
    const old = existing.get(spec.id)
    if (old === undefined || gone.includes(spec.id)) {
      await repo.insert({
        flowId,
        triggerId: spec.id,
        type: spec.type,
        definition,
        enabled: spec.enabled,
        hookId: spec.type === 'webhook' ? newHookId() : null,
        nextFireAt: spec.type === 'schedule' && spec.enabled ? nextTick(spec, now) : null
      })
      continue
    }
    const enabled = old.definition.enabled === spec.enabled ? old.enabled : spec.enabled
    let nextFireAt: Date | null = null
    if (spec.type === 'schedule' && enabled) {
      nextFireAt = old.enabled && old.nextFireAt !== null && sameSchedule(old.definition, spec) ? old.nextFireAt : nextTick(spec, now)
    }
    await repo.redefine(flowId, spec.id, { definition, enabled, nextFireAt })
  }
}
