import { randomBytes } from 'node:crypto'
import { mkdir } from 'node:fs/promises'
import path from 'node:path'
import { load } from '../src/config.js'
import { BULK_FLOW_NAME, GRADE_FLOW_NAME, KNOWN_CONDITION, setUpBulkFlows, UNKNOWN_CONDITION, type BulkSetup } from './demo/bulk-flows.js'
import { DEMO_FLOW_NAME, DEMO_INPUT, DEMO_SECRET_KEY, demoSecretValue, setUpDemoFlow, type DemoSetup } from './demo/demo-flow.js'
import { FlowRunnerApi } from './demo/flowrunner-api.js'
import { HOOK_SECRET_KEY, setUpTriggerFlow, TRIGGER_FLOW_NAME, type TriggerSetup } from './demo/trigger-flow.js'
import { describeDelivery, startWebhookReceiver } from './demo/webhook-receiver.js'
import { start } from '../app/server.js'
import { DEMO_PASSWORD, DEMO_USERNAME, EvercycleSimulator } from './simulator/simulator.js'

/**
 * `npm run demo`: the Evercycle simulator and the gateway wired to it, on the embedded defaults (file token
 * store, PGlite in .demo/data), plus FlowRunner with a first admin, a webhook receiver and example flows (one
 * with a paused schedule and a signed inbound webhook) set up through the real API. Everything lives under
 * .demo/ so the demo never touches a real config.
 */
const root = path.resolve('.demo')
const simPort = Number(process.env.SIM_PORT ?? 5050)
const receiverPort = Number(process.env.RECEIVER_PORT ?? 5055)
const sim = new EvercycleSimulator()
const simUrl = await sim.listen(simPort, '127.0.0.1')
await mkdir(path.join(root, 'config'), { recursive: true })

// the receiver checks signatures with the same value the demo stores as the flow's secret
const webhookSecret = await demoSecretValue(path.join(root, 'webhook-secret'))
// what the demo's inbound webhook trigger checks signatures with (the banner's openssl line reads the file)
const hookSecretFile = path.join(root, 'hook-secret')
const hookSecret = await demoSecretValue(hookSecretFile)
const receiver = await startWebhookReceiver({
  port: receiverPort,
  secret: webhookSecret.value,
  onDelivery: (d) => process.stdout.write(`\n${describeDelivery(d)}\n`)
})

const demoKey = process.env.GATEWAY_API_KEYS?.split(',')[0] ?? 'demo-api-key-change-me'
const adminEmail = process.env.FLOWRUNNER_ADMIN_EMAIL ?? 'admin@demo.test'
const adminPassword = process.env.FLOWRUNNER_ADMIN_PASSWORD ?? 'demo-admin-password'
const env: NodeJS.ProcessEnv = {
  GATEWAY_API_KEYS: demoKey,
  EVERCYCLE_BASE_URL: simUrl,
  EVERCYCLE_USERNAME: DEMO_USERNAME,
  EVERCYCLE_PASSWORD: DEMO_PASSWORD,
  EVERCYCLE_CONFIG_DIR: path.join(root, 'config'),
  TOKEN_FILE: path.join(root, 'auth.properties'),
  DATA_DIR: path.join(root, 'data'),
  FLOWRUNNER_ADMIN_EMAIL: adminEmail,
  FLOWRUNNER_ADMIN_PASSWORD: adminPassword,
  // flow HTTP nodes may reach these two loopback ports and nothing else on this machine
  FLOWRUNNER_ALLOW_HOSTS: `127.0.0.1:${new URL(simUrl).port},127.0.0.1:${receiver.port}`,
  ...process.env
}
const config = load(env)
try {
  await start(config, {
    onClose: async () => {
      await Promise.all([sim.close(), receiver.close()])
    }
  })
} catch (err) {
  // e.g. a database in .demo/data that a build with other migrations made
  process.stderr.write(`\nThe demo's server did not start: ${(err as Error).message}\n`)
  process.stderr.write(`(FlowRunner data an older build left in ${path.join(root, 'data')}? delete that folder and run the demo again)\n`)
  await Promise.all([sim.close(), receiver.close()])
  process.exit(1)
}
const base = `http://${config.host === '0.0.0.0' ? '127.0.0.1' : config.host}:${config.port}`
const wsBase = base.replace(/^http/, 'ws')

const lines = [
  '',
  'Evercycle gateway demo',
  `  gateway         ${base}`,
  `  API docs        ${base}/docs`,
  `  simulator       ${simUrl}  (stands in for https://api.evercycle.io)`,
  `  Evercycle user  ${DEMO_USERNAME} / ${DEMO_PASSWORD}`,
  `  API key         ${demoKey}  (scripts; acts as the service identity)`,
  '',
  'Try, as a script with the API key:',
  `  curl -s ${base}/api/list`,
  `  curl -s ${base}/api/get-all -H 'x-api-key: ${demoKey}'`,
  `  curl -s '${base}/api/get-asset-id?id=1001' -H 'x-api-key: ${demoKey}'`,
  `  curl -s -X POST ${base}/api/create -H 'x-api-key: ${demoKey}' -H 'content-type: application/json' -d '{"name":"Demo laptop"}'`,
  'or as a user with a session cookie:',
  `  curl -s -c .demo/cookies -X POST ${base}/api/auth -H 'content-type: application/json' -d '{"username":"${DEMO_USERNAME}","password":"${DEMO_PASSWORD}"}'`,
  `  curl -s -b .demo/cookies ${base}/api/get-all`,
  ''
]

const api = new FlowRunnerApi(base)
let setup: DemoSetup | undefined
let bulk: BulkSetup | undefined
let triggered: TriggerSetup | undefined
try {
  setup = await setUpDemoFlow(api, { email: adminEmail, password: adminPassword, receiverUrl: receiver.url, secret: webhookSecret })
  bulk = await setUpBulkFlows(api)
  triggered = await setUpTriggerFlow(api, setup.accountId, hookSecret)
} catch (err) {
  lines.push(
    'FlowRunner: setting up the example flow failed:',
    `  ${(err as Error).message}`,
    '  (an admin left in .demo/data by an earlier run with other credentials? stop the demo and delete .demo/data)',
    ''
  )
} finally {
  await api.close()
}

if (setup !== undefined) {
  const auth = `-H "authorization: Bearer $TOKEN"`
  const json = (field: string): string => `node -pe 'JSON.parse(require("fs").readFileSync(0, "utf8")).${field}'`
  const watch =
    `node -e 'const ws = new (require("ws"))("${wsBase}/ws/executions/" + process.env.EXEC, { headers: { authorization: "Bearer " + process.env.TOKEN } }); ` +
    `ws.on("message", (m) => console.log(String(m))); ws.on("close", (code) => console.log("closed", code))'`
  lines.push(
    'FlowRunner',
    `  admin           ${adminEmail} / ${adminPassword}`,
    `  example flow    "${DEMO_FLOW_NAME}" (${setup.flow}): transform -> evercycle get-all -> condition -> signed webhook`,
    `  flow id         ${setup.flowId}`,
    `  webhook         ${receiver.url} (prints each delivery here; secret ${DEMO_SECRET_KEY} ${setup.secret}, value in .demo/webhook-secret)`,
    '',
    'Run it (paste into a shell in this directory):',
    `  export TOKEN=$(curl -s -X POST ${base}/api/v1/auth/login -H 'content-type: application/json' -d '{"username":"${adminEmail}","password":"${adminPassword}"}' | ${json('token')})`,
    `  export EXEC=$(curl -s -X POST ${base}/api/v1/flows/${setup.flowId}/run ${auth} -H 'content-type: application/json' -d '${JSON.stringify({ input: DEMO_INPUT })}' | ${json('execution_id')})`,
    'watch it over WebSocket (a late subscriber gets the current status, then the rest; the socket closes when it ends):',
    `  ${watch}`,
    `  websocat -H "Authorization: Bearer $TOKEN" ${wsBase}/ws/executions/$EXEC    # if you have websocat`,
    'read its result and logs:',
    `  curl -s ${base}/api/v1/executions/$EXEC ${auth}`,
    `  curl -s "${base}/api/v1/executions/$EXEC/logs?limit=100" ${auth}`,
    'run and watch in one go, taking the other branch (3 assets are active, fewer than 4: no webhook; a run this',
    'short may be over before the socket opens, and then you get its status and final message):',
    `  export EXEC=$(curl -s -X POST ${base}/api/v1/flows/${setup.flowId}/run ${auth} -H 'content-type: application/json' -d '{"input":{"min_assets":4}}' | ${json('execution_id')}) && ${watch}`,
    ''
  )
}

if (setup !== undefined && bulk !== undefined) {
  const auth = `-H "authorization: Bearer $TOKEN"`
  const key = `-H 'x-api-key: ${demoKey}'`
  const body = `-H 'content-type: application/json'`
  const read = `JSON.parse(require("fs").readFileSync(0, "utf8"))`
  lines.push(
    'Bulk work (same $TOKEN)',
    `  bulk flow       "${BULK_FLOW_NAME}" (${bulk.outcome.bulk}): evercycle get-all -> foreach asset, 5 at a time, each a child execution of`,
    `  item flow       "${GRADE_FLOW_NAME}" (${bulk.outcome.grade}): evercycle get-asset-id -> transform (grade, price) -> evercycle grade`,
    `  flow ids        ${bulk.bulkFlowId} (bulk), ${bulk.gradeFlowId} (item)`,
    '',
    `make an asset in condition "${UNKNOWN_CONDITION}", which grading does not know, so its item fails:`,
    `  export ASSET=$(curl -s -X POST ${base}/api/create ${key} ${body} -d '{"name":"Demo phone","condition":"${UNKNOWN_CONDITION}"}' | node -pe '${read}.data.id')`,
    'run the bulk flow and wait for it (up to 10 s): 200 with the finished execution, its result counting the items',
    '(total, completed, failed) with each one\'s result and the failed items\' errors (202 and the run reply if it is not done):',
    `  export BULK=$(curl -s -X POST "${base}/api/v1/flows/${bulk.bulkFlowId}/run?wait=10s" ${auth} ${body} -d '{}' | tee /dev/stderr | node -pe 'const r = ${read}; r.id ?? r.execution_id')`,
    'its children (one execution per asset, with parent_id and item_index), then only the failed ones:',
    `  curl -s "${base}/api/v1/executions?parent_id=$BULK&limit=100" ${auth}`,
    `  curl -s "${base}/api/v1/executions?parent_id=$BULK&status=failed" ${auth}`,
    `fix the asset (condition "${KNOWN_CONDITION}"), then re-run what failed: the run starts at the foreach node with the asset list`,
    'carried over, the completed items are reused (copied as completed children, rerun_of naming the original) and only the',
    'failed item runs again:',
    `  curl -s -X PUT ${base}/api/edit-asset-id ${key} ${body} -d '{"id":"'$ASSET'","condition":"${KNOWN_CONDITION}"}'`,
    `  export RERUN=$(curl -s -X POST ${base}/api/v1/executions/$BULK/rerun ${auth} ${body} -d '{}' | node -pe '${read}.execution_id')`,
    `  curl -s ${base}/api/v1/executions/$RERUN ${auth}    # a moment later: completed, rerun_of $BULK, children all completed`,
    ''
  )
}
if (setup !== undefined && triggered !== undefined) {
  const auth = `-H "authorization: Bearer $TOKEN"`
  const body = `-H 'content-type: application/json'`
  const read = `JSON.parse(require("fs").readFileSync(0, "utf8"))`
  const { schedule, hook, flowId } = triggered
  const hookUrl = `${base}${hook.url}`
  const secretFile = path.relative(process.cwd(), hookSecretFile)
  // a new key per demo start, so a restarted demo's first request is not a replay of the last one's
  const key = `demo-${randomBytes(4).toString('hex')}`
  const post = `curl -s -X POST ${hookUrl} ${body} -H "x-flowrunner-signature: $SIG" -H 'idempotency-key: ${key}' -d "$HOOK_BODY"`
  const patch = (enabled: boolean): string =>
    `curl -s -X PATCH ${base}/api/v1/flows/${flowId}/triggers/${schedule.id} ${auth} ${body} -d '{"enabled":${enabled}}'`
  const state = schedule.enabled ? `on, next tick ${schedule.next_fire_at ?? 'none'}` : 'paused'
  lines.push(
    'Triggers (same $TOKEN)',
    `  triggered flow  "${TRIGGER_FLOW_NAME}" (${triggered.outcome}): transform (reads execution.trigger) -> evercycle get-all -> transform (count)`,
    `  flow id         ${flowId}`,
    `  schedule        ${schedule.id}: ${schedule.cron ?? ''} ${schedule.timezone ?? ''}, catch_up ${schedule.catch_up ?? ''}; ${state}`,
    `  webhook         ${hook.id}: ${hookUrl}`,
    `  signing secret  ${HOOK_SECRET_KEY} ${triggered.secret}, value in ${secretFile}`,
    '',
    'post to the webhook: no token (the URL and the signature are the credentials); X-FlowRunner-Signature is',
    'sha256=<hex HMAC-SHA256 of the exact body bytes>, which openssl computes; the JSON body becomes input.body:',
    `  export HOOK_BODY='{"status":"retired"}'`,
    `  export SIG="sha256=$(printf '%s' "$HOOK_BODY" | openssl dgst -sha256 -hmac "$(cat ${secretFile})" | awk '{print $NF}')"`,
    `  export HOOK_EXEC=$(${post} | tee /dev/stderr | node -pe '${read}.execution_id')`,
    'the same request again: 202 with the same execution_id and Idempotent-Replayed: true (nothing new runs);',
    'then without the signature: 401 invalid_signature (nothing runs):',
    `  ${post.replace('curl -s ', 'curl -si ')}`,
    `  curl -s -X POST ${hookUrl} ${body} -d "$HOOK_BODY"`,
    'the execution: trigger {"type":"webhook","id":"intake"} and its result {status, count, started_by}:',
    `  curl -s ${base}/api/v1/executions/$HOOK_EXEC ${auth}`,
    "the flow's triggers (enabled, next_fire_at, last_execution_id, url); then resume the nightly schedule (the reply",
    "has its next_fire_at, the next 02:00 Paris time: ticks missed while paused are not caught up) and pause it again:",
    `  curl -s ${base}/api/v1/flows/${flowId}/triggers ${auth}`,
    `  ${patch(true)}`,
    `  ${patch(false)}`,
    ''
  )
}
lines.push('Ctrl-C stops everything.', '')
process.stdout.write(lines.join('\n'))
