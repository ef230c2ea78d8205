import { DEMO_FLOW_NAME, DEMO_INPUT, DEMO_SECRET_KEY, type DemoSetup } from './demo-flow.js'
import { DEMO_PASSWORD, DEMO_USERNAME } from '../simulator/simulator.js'
import { bulkLines, triggerLines } from './banner-flows.js'
import type { BulkSetup } from './bulk-flows.js'
import { auth, field, jsonBody } from './shell.js'
import type { TriggerSetup } from './trigger-flow.js'

/** What the banner shows, gathered once everything listens and the flows are set up. */
export interface BannerFacts {
  base: string
  simUrl: string
  demoKey: string
  adminEmail: string
  adminPassword: string
  receiverUrl: string
  /** Assets the simulator holds with status "active" now, before any line of the banner has run. */
  activeAssets: number
  /** The inbound webhook's signing secret file, relative to the working directory. */
  hookSecretFile: string
  /** A fresh Idempotency-Key for the webhook lines. */
  idempotencyKey: string
  setup?: DemoSetup | undefined
  bulk?: BulkSetup | undefined
  triggered?: TriggerSetup | undefined
  /** Why the flows could not be set up. */
  setupError?: string | undefined
}

/**
 * The demo's banner, printed last. Its lines are meant to be pasted in the order printed, and what it says about
 * their outcome holds in that order (the asset count is the simulator's, plus what the lines before create).
 */
export function banner(facts: BannerFacts): string {
  const lines = [...intro(facts), ...cli(facts)]
  if (facts.setupError !== undefined) {
    lines.push(
      'FlowRunner: setting up the example flow failed:',
      `  ${facts.setupError}`,
      '  (an admin left in .demo/data by an earlier run with other credentials? stop the demo and delete .demo/data)',
      ''
    )
  }
  const { setup, bulk, triggered } = facts
  if (setup !== undefined) lines.push(...flowRunner(facts, setup))
  if (setup !== undefined && bulk !== undefined) lines.push(...bulkLines(facts, bulk))
  if (setup !== undefined && triggered !== undefined) lines.push(...triggerLines(facts, triggered))
  lines.push('Ctrl-C stops everything.', '')
  return lines.join('\n')
}

function intro(f: BannerFacts): string[] {
  const key = `-H 'x-api-key: ${f.demoKey}'`
  return [
    '',
    'Evercycle gateway demo',
    `  gateway         ${f.base}`,
    `  API docs        ${f.base}/docs`,
    `  console         ${f.base}/console/  (log in as ${f.adminEmail} / ${f.adminPassword})`,
    `  simulator       ${f.simUrl}  (stands in for https://api.evercycle.io; ${f.activeAssets} of its assets are active)`,
    `  Evercycle user  ${DEMO_USERNAME} / ${DEMO_PASSWORD}`,
    `  API key         ${f.demoKey}  (scripts; acts as the service identity)`,
    '',
    'Try, as a script with the API key:',
    `  curl -s ${f.base}/api/list`,
    `  curl -s ${f.base}/api/get-all ${key}`,
    `  curl -s '${f.base}/api/get-asset-id?id=1001' ${key}`,
    `  curl -s -X POST ${f.base}/api/create ${key} ${jsonBody} -d '{"name":"Demo laptop"}'    # a new active asset`,
    'or as a user with a session cookie:',
    `  curl -s -c .demo/cookies -X POST ${f.base}/api/auth ${jsonBody} -d '{"username":"${DEMO_USERNAME}","password":"${DEMO_PASSWORD}"}'`,
    `  curl -s -b .demo/cookies ${f.base}/api/get-all`,
    ''
  ]
}

/** The CLI straight to the simulator (its default is the real Evercycle), and through the gateway. */
function cli(f: BannerFacts): string[] {
  return [
    `The evercycle CLI (docs/cli.md), straight to the simulator: these variables point it there (its default is`,
    'https://api.evercycle.io) and keep its tokens in .demo/cli/; password at the prompt: ' + DEMO_PASSWORD,
    `  export EVERCYCLE_BASE_URL=${f.simUrl} TOKEN_FILE=.demo/cli/auth.properties`,
    `  npx evercycle auth --username ${DEMO_USERNAME}`,
    '  npx evercycle call get-asset-id --param id=1001',
    "  npx evercycle call get-all --query status=active",
    'or through the gateway, with the API key:',
    `  npx evercycle call get-all --gateway ${f.base} --api-key ${f.demoKey}`,
    ''
  ]
}

function flowRunner(f: BannerFacts, setup: DemoSetup): string[] {
  const wsBase = f.base.replace(/^http/, 'ws')
  const watch =
    `node -e 'const ws = new (require("ws"))("${wsBase}/ws/executions/" + process.env.EXEC, { headers: { authorization: "Bearer " + process.env.TOKEN } }); ` +
    `ws.on("message", (m) => console.log(String(m))); ws.on("close", (code) => console.log("closed", code))'`
  // the create line above adds one active asset; the other branch needs more than there are then
  const afterCreate = f.activeAssets + 1
  const minAssets = afterCreate + 1
  return [
    'FlowRunner',
    `  admin           ${f.adminEmail} / ${f.adminPassword}`,
    `  example flow    "${DEMO_FLOW_NAME}" (${setup.flow}): transform -> evercycle get-all -> condition -> signed webhook`,
    `  flow id         ${setup.flowId}`,
    `  webhook         ${f.receiverUrl} (prints each delivery here; secret ${DEMO_SECRET_KEY} ${setup.secret}, value in .demo/webhook-secret)`,
    '',
    `Run it (paste into a shell in this directory): at least ${DEMO_INPUT.min_assets} active asset, so the webhook receiver prints a delivery:`,
    `  export TOKEN=$(curl -s -X POST ${f.base}/api/v1/auth/login ${jsonBody} -d '{"username":"${f.adminEmail}","password":"${f.adminPassword}"}' | ${field('token')})`,
    `  export EXEC=$(curl -s -X POST ${f.base}/api/v1/flows/${setup.flowId}/run ${auth} ${jsonBody} -d '${JSON.stringify({ input: DEMO_INPUT })}' | ${field('execution_id')})`,
    'watch it over WebSocket (a late subscriber first gets each node already done and the current status, then the rest; the socket closes when it ends):',
    `  ${watch}`,
    `  websocat -H "Authorization: Bearer $TOKEN" ${wsBase}/ws/executions/$EXEC    # if you have websocat`,
    'read its result and logs:',
    `  curl -s ${f.base}/api/v1/executions/$EXEC ${auth}`,
    `  curl -s "${f.base}/api/v1/executions/$EXEC/logs?limit=100" ${auth}`,
    `run and watch in one go, taking the other branch: ${afterCreate} assets are active after the create line above`,
    `(${f.activeAssets} without it), fewer than ${minAssets}: no webhook. A run this short may be over before the socket opens,`,
    'and then you get its nodes, its status and its final message at once:',
    `  export EXEC=$(curl -s -X POST ${f.base}/api/v1/flows/${setup.flowId}/run ${auth} ${jsonBody} -d '{"input":{"min_assets":${minAssets}}}' | ${field('execution_id')}) && ${watch}`,
    ''
  ]
}
