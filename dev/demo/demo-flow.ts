import { randomBytes } from 'node:crypto'
import { readOrCreateKeyFile } from '../../src/auth/key-file.js'
import type { FlowRunnerApi } from './flowrunner-api.js'

/**
 * The example flow `npm run demo` installs and `npm run bench:flows` measures: shape the input, list assets
 * from Evercycle (the simulator, through the gateway's own client), branch on how many came back, and deliver
 * a signed report to a webhook receiver. It needs nothing filled in by hand: the signing secret is created
 * beside it.
 */

export const DEMO_FLOW_NAME = 'Demo: asset report'
export const DEMO_FLOW_TAG = 'demo'
export const DEMO_SECRET_KEY = 'DEMO_WEBHOOK_SECRET'
/** The path the flow posts to on the receiver. */
export const DEMO_WEBHOOK_PATH = '/hooks/asset-report'
/** What the printed curl line sends; the transform fills in the same values when they are left out. */
export const DEMO_INPUT = { status: 'active', min_assets: 1 }

export function demoFlowDefinition(receiverUrl: string): string {
  return `metadata:
  name: "${DEMO_FLOW_NAME}"
  description: "Lists assets with a status, and posts a signed report to a webhook when there are enough"
  version: "1.0.0"
  start: shape_input

nodes:
  # defaults for whatever the caller left out, so the flow runs with an empty input too
  shape_input:
    type: transform
    params:
      expression: '{"status": $exists(input.status) ? input.status : "active", "min_assets": $exists(input.min_assets) ? input.min_assets : 1}'
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
      default: enough_assets

  # "true" goes on to the webhook; "false" has no edge, so the execution ends there
  enough_assets:
    type: condition
    params:
      expression: '$count(nodes.fetch_assets.body.assets) >= nodes.shape_input.min_assets'
    next:
      "true": notify

  notify:
    type: webhook
    params:
      url: "${receiverUrl}${DEMO_WEBHOOK_PATH}"
      secret: "\${secrets.${DEMO_SECRET_KEY}}"
      body:
        event: asset.report
        execution_id: "\${execution.id}"
        status: "\${nodes.shape_input.status}"
        count: "\${$count(nodes.fetch_assets.body.assets)}"
        assets: "\${[nodes.fetch_assets.body.assets.{'id': id, 'name': name}]}"
    retry:
      max_attempts: 3
      backoff_ms: 200
    timeout: 5s
`
}

/** The signing secret's value, kept in a 0600 file so a restarted demo (and its receiver) reuse it. */
export async function demoSecretValue(file: string): Promise<{ value: string; created: boolean }> {
  const { value, created } = await readOrCreateKeyFile(file, () => randomBytes(24).toString('base64url'))
  return { value, created }
}

export interface DemoSetup {
  accountId: string
  token: string
  flowId: string
  /** What happened to the flow: made now, reused as it was, or reused with its definition brought up to date. */
  flow: 'created' | 'reused' | 'updated'
  secret: 'created' | 'reused' | 'replaced'
}

/**
 * Logs in through the API and makes sure the secret and the flow exist, idempotently: a flow with the demo's
 * name is reused (and given a new revision only when its definition differs, e.g. another receiver port), and
 * a stored secret is kept unless its value may differ from the one the receiver checks against.
 */
export async function setUpDemoFlow(
  api: FlowRunnerApi,
  options: { email: string; password: string; receiverUrl: string; secret: { value: string; created: boolean } }
): Promise<DemoSetup> {
  const login = await api.login(options.email, options.password)
  const accountId = login.account_id

  const secret = await ensureSecret(api, accountId, DEMO_SECRET_KEY, options.secret)
  const flow = await ensureFlow(api, DEMO_FLOW_NAME, demoFlowDefinition(options.receiverUrl))
  return { accountId, token: login.token, flowId: flow.id, flow: flow.outcome, secret }
}

/**
 * Makes sure the account holds secret `key` with the value in the demo's key file: a stored one is kept unless
 * the file was just made (a stored value can't be read back, so it may not be the file's: replace it).
 */
export async function ensureSecret(
  api: FlowRunnerApi,
  accountId: string,
  key: string,
  value: { value: string; created: boolean }
): Promise<DemoSetup['secret']> {
  const stored = (await api.secrets(accountId)).some((s) => s.key === key)
  if (stored && !value.created) return 'reused'
  if (stored) await api.deleteSecret(accountId, key)
  await api.createSecret(accountId, key, value.value)
  return stored ? 'replaced' : 'created'
}

/**
 * The demo's flow called `name`, made when missing, reused as it is, or given a new revision when its
 * definition differs (another port, a newer demo).
 */
export async function ensureFlow(api: FlowRunnerApi, name: string, definition: string): Promise<{ id: string; outcome: DemoSetup['flow'] }> {
  const existing = (await api.flowsTagged(DEMO_FLOW_TAG)).find((f) => f.name === name)
  if (existing === undefined) return { id: (await api.createFlow({ name, definition, tags: [DEMO_FLOW_TAG] })).id, outcome: 'created' }
  const current = await api.flow(existing.id)
  if (current.definition === definition) return { id: existing.id, outcome: 'reused' }
  await api.updateFlow(existing.id, { definition })
  return { id: existing.id, outcome: 'updated' }
}
