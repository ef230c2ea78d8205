import type { TSchema } from '@sinclair/typebox'
import { Value } from '@sinclair/typebox/value'
import { SECRET_KEY_PATTERN } from '../../secrets/secret-service.js'
import { Schedule } from './cron.js'
import { ScheduleTriggerSchema, WebhookTriggerSchema, type TriggerSpec } from './trigger-schema.js'

type Path = (string | number)[]

export interface TriggerIssue {
  path: Path
  reason: string
}

const SECRET_REFERENCE = /^\$\{\s*secrets\.([A-Za-z_][A-Za-z0-9_]*)\s*\}$/
const SECRET_KEY = new RegExp(SECRET_KEY_PATTERN)

function schemaIssues(schema: TSchema, value: unknown, base: Path): TriggerIssue[] {
  const seen = new Map<string, TriggerIssue>()
  for (const e of Value.Errors(schema, value)) {
    const path = [...base, ...(e.path === '' ? [] : e.path.slice(1).split('/'))]
    const key = path.join('.')
    if (!seen.has(key)) seen.set(key, { path, reason: e.message })
  }
  return [...seen.values()]
}

function checkOne(raw: { id: unknown; type: string }, base: Path): { issues: TriggerIssue[]; spec?: TriggerSpec } {
  if (raw.type === 'schedule') {
    const issues = schemaIssues(ScheduleTriggerSchema, raw, base)
    if (issues.length > 0) return { issues }
    const t = raw as typeof ScheduleTriggerSchema.static
    const timezone = t.timezone ?? 'UTC'
    const parsed = Schedule.parse(t.cron, timezone)
    if ('reason' in parsed) return { issues: [{ path: [...base, parsed.field], reason: parsed.reason }] }
    return {
      issues: [],
      spec: { id: t.id, type: 'schedule', cron: t.cron.trim().split(/\s+/).join(' '), timezone, catch_up: t.catch_up ?? 'once', input: t.input ?? {}, enabled: t.enabled ?? true }
    }
  }
  if (raw.type === 'webhook') {
    const issues = schemaIssues(WebhookTriggerSchema, raw, base)
    if (issues.length > 0) return { issues }
    const t = raw as typeof WebhookTriggerSchema.static
    let secret: string | null = null
    if (t.secret !== undefined) {
      const key = SECRET_REFERENCE.exec(t.secret)?.[1]
      if (key === undefined || !SECRET_KEY.test(key)) {
        // a literal secret in the definition would be readable by anyone who can read the flow
        return { issues: [{ path: [...base, 'secret'], reason: 'must name one of your secrets, as "${secrets.NAME}" (a literal value would be stored in the flow)' }] }
      }
      secret = key
    }
    return { issues: [], spec: { id: t.id, type: 'webhook', secret, enabled: t.enabled ?? true } }
  }
  return { issues: [{ path: [...base, 'type'], reason: `unknown trigger type "${raw.type}"; known types: schedule, webhook` }] }
}

/** Each trigger against its type's schema, its cron and zone, and the ids unique within the flow. */
export function checkTriggers(triggers: ReadonlyArray<{ id: unknown; type: string }>): { issues: TriggerIssue[]; specs: TriggerSpec[] } {
  const issues: TriggerIssue[] = []
  const specs: TriggerSpec[] = []
  const seen = new Set<string>()
  triggers.forEach((raw, i) => {
    const checked = checkOne(raw, ['triggers', i])
    issues.push(...checked.issues)
    if (checked.spec === undefined) return
    if (seen.has(checked.spec.id)) issues.push({ path: ['triggers', i, 'id'], reason: `"${checked.spec.id}" is the id of an earlier trigger: ids are unique within a flow` })
    seen.add(checked.spec.id)
    specs.push(checked.spec)
  })
  return { issues, specs }
}
