import { ensureFlow, ensureSecret, type DemoSetup } from './demo-flow.js'
import type { FlowRunnerApi, TriggerInfo } from './flowrunner-api.js'

/**
 * The demo's triggered flow: it counts the assets with a status, and starts itself two ways. A nightly
 * schedule (02:00 Paris time), defined paused so the demo does not run it behind your back (the banner prints
 * the PATCH that resumes it), and a webhook signed with a secret the demo creates, whose URL and signing line
 * the banner prints. Its one expression that reads `execution.trigger` takes a webhook's JSON from
 * `input.body` and a schedule's input as it is.
 */

export const TRIGGER_FLOW_NAME = 'Demo: count assets'
/** The secret the webhook trigger's requests are signed with (its value in .demo/hook-secret). */
export const HOOK_SECRET_KEY = 'DEMO_HOOK_KEY'
export const SCHEDULE_ID = 'nightly'
export const HOOK_ID = 'intake'

export const TRIGGER_FLOW = `metadata:
  name: "${TRIGGER_FLOW_NAME}"
  description: "Counts assets with a status, nightly (paused until resumed) or when a signed webhook arrives"
  version: "1.0.0"
  start: shape_input

triggers:
  # paused as defined: PATCH /api/v1/flows/{id}/triggers/${SCHEDULE_ID} {"enabled": true} resumes it
  - id: ${SCHEDULE_ID}
    type: schedule
    cron: "0 2 * * *"
    timezone: Europe/Paris
    catch_up: once
    input: {status: active}
    enabled: false
  # POST /api/v1/hooks/<hook id> (GET /api/v1/flows/{id}/triggers has the URL), signed with the secret
  - id: ${HOOK_ID}
    type: webhook
    secret: "\${secrets.${HOOK_SECRET_KEY}}"

nodes:
  # a webhook's JSON is input.body (beside input.headers and input.query); a schedule's input is used as it is
  shape_input:
    type: transform
    params:
      expression: |
        (
          $in := execution.trigger.type = "webhook" ? input.body : input;
          {"status": $exists($in.status) ? $in.status : "active"}
        )
    next:
      default: fetch_assets

  fetch_assets:
    type: evercycle
    params:
      operation: get-all
      query:
        status: "\${nodes.shape_input.status}"
    retry:
      max_attempts: 3
      backoff_ms: 200
    timeout: 10s
    next:
      default: summary

  summary:
    type: transform
    params:
      expression: '{"status": nodes.shape_input.status, "count": $count(nodes.fetch_assets.body.assets), "started_by": execution.trigger}'
`

export interface TriggerSetup {
  flowId: string
  outcome: DemoSetup['flow']
  secret: DemoSetup['secret']
  schedule: TriggerInfo
  hook: TriggerInfo & { url: string }
}

/**
 * Makes sure the signing secret and the flow exist (the caller is logged in as `accountId`) and reads its
 * triggers back: the webhook's URL is the server's, made when the trigger was first saved and kept by later
 * versions, and the schedule stays as it was left (paused, or resumed by an earlier PATCH).
 */
export async function setUpTriggerFlow(api: FlowRunnerApi, accountId: string, secret: { value: string; created: boolean }): Promise<TriggerSetup> {
  const secretOutcome = await ensureSecret(api, accountId, HOOK_SECRET_KEY, secret)
  const flow = await ensureFlow(api, TRIGGER_FLOW_NAME, TRIGGER_FLOW)
  const triggers = await api.triggers(flow.id)
  const schedule = triggers.find((t) => t.id === SCHEDULE_ID)
  const hook = triggers.find((t) => t.id === HOOK_ID)
  if (schedule === undefined || hook?.url == null) throw new Error(`flow ${flow.id} lacks its triggers: ${JSON.stringify(triggers)}`)
  return { flowId: flow.id, outcome: flow.outcome, secret: secretOutcome, schedule, hook: { ...hook, url: hook.url } }
}
