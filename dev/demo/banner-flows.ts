import type { BannerFacts } from './banner.js'
import { BULK_FLOW_NAME, GRADE_FLOW_NAME, KNOWN_CONDITION, UNKNOWN_CONDITION, type BulkSetup } from './bulk-flows.js'
import { auth, jsonBody as body, read } from './shell.js'
import { HOOK_SECRET_KEY, TRIGGER_FLOW_NAME, type TriggerSetup } from './trigger-flow.js'

/** The banner's bulk-work part: a failing item, the bulk run, its children, and a re-run of what failed. */
export function bulkLines(f: BannerFacts, bulk: BulkSetup): string[] {
  const key = `-H 'x-api-key: ${f.demoKey}'`
  return [
    'Bulk work (same $TOKEN)',
    `  bulk flow       "${BULK_FLOW_NAME}" (${bulk.outcome.bulk}): evercycle get-all -> foreach asset, 5 at a time, each a child execution of`,
    `  item flow       "${GRADE_FLOW_NAME}" (${bulk.outcome.grade}): evercycle get-asset-id -> transform (grade, price) -> evercycle grade`,
    `  flow ids        ${bulk.bulkFlowId} (bulk), ${bulk.gradeFlowId} (item)`,
    '',
    `make an asset in condition "${UNKNOWN_CONDITION}", which grading does not know, so its item fails:`,
    `  export ASSET=$(curl -s -X POST ${f.base}/api/create ${key} ${body} -d '{"name":"Demo phone","condition":"${UNKNOWN_CONDITION}"}' | node -pe '${read}.data.id')`,
    'run the bulk flow and wait for it (up to 10 s): 200 with the finished execution, its result counting the items',
    '(total, completed, failed) with each one\'s result and the failed items\' errors (202 and the run reply if it is not done):',
    `  export BULK=$(curl -s -X POST "${f.base}/api/v1/flows/${bulk.bulkFlowId}/run?wait=10s" ${auth} ${body} -d '{}' | tee /dev/stderr | node -pe 'const r = ${read}; r.id ?? r.execution_id')`,
    'its children (one execution per asset, with parent_id and item_index), then only the failed ones:',
    `  curl -s "${f.base}/api/v1/executions?parent_id=$BULK&limit=100" ${auth}`,
    `  curl -s "${f.base}/api/v1/executions?parent_id=$BULK&status=failed" ${auth}`,
    `fix the asset (condition "${KNOWN_CONDITION}"), then re-run what failed: the run starts at the foreach node with the asset list`,
    'carried over, the completed items are reused (copied as completed children, rerun_of naming the original) and only the',
    'failed item runs again:',
    `  curl -s -X PUT ${f.base}/api/edit-asset-id ${key} ${body} -d '{"id":"'$ASSET'","condition":"${KNOWN_CONDITION}"}'`,
    `  export RERUN=$(curl -s -X POST ${f.base}/api/v1/executions/$BULK/rerun ${auth} ${body} -d '{}' | node -pe '${read}.execution_id')`,
    `  curl -s ${f.base}/api/v1/executions/$RERUN ${auth}    # a moment later: completed, rerun_of $BULK, children all completed`,
    ''
  ]
}

/** The banner's triggers part: sign and post to the inbound webhook, replay it, and resume the schedule. */
export function triggerLines(f: BannerFacts, triggered: TriggerSetup): string[] {
  const { schedule, hook, flowId } = triggered
  const hookUrl = `${f.base}${hook.url}`
  const post = `curl -s -X POST ${hookUrl} ${body} -H "x-flowrunner-signature: $SIG" -H 'idempotency-key: ${f.idempotencyKey}' -d "$HOOK_BODY"`
  const patch = (enabled: boolean): string =>
    `curl -s -X PATCH ${f.base}/api/v1/flows/${flowId}/triggers/${schedule.id} ${auth} ${body} -d '{"enabled":${enabled}}'`
  const state = schedule.enabled ? `on, next tick ${schedule.next_fire_at ?? 'none'}` : 'paused'
  return [
    'Triggers (same $TOKEN)',
    `  triggered flow  "${TRIGGER_FLOW_NAME}" (${triggered.outcome}): transform (reads execution.trigger) -> evercycle get-all -> transform (count)`,
    `  flow id         ${flowId}`,
    `  schedule        ${schedule.id}: ${schedule.cron ?? ''} ${schedule.timezone ?? ''}, catch_up ${schedule.catch_up ?? ''}; ${state}`,
    `  webhook         ${hook.id}: ${hookUrl}`,
    `  signing secret  ${HOOK_SECRET_KEY} ${triggered.secret}, value in ${f.hookSecretFile}`,
    '',
    'post to the webhook: no token (the URL and the signature are the credentials); X-FlowRunner-Signature is',
    'sha256=<hex HMAC-SHA256 of the exact body bytes>, which openssl computes; the JSON body becomes input.body:',
    `  export HOOK_BODY='{"status":"retired"}'`,
    `  export SIG="sha256=$(printf '%s' "$HOOK_BODY" | openssl dgst -sha256 -hmac "$(cat ${f.hookSecretFile})" | awk '{print $NF}')"`,
    `  export HOOK_EXEC=$(${post} | tee /dev/stderr | node -pe '${read}.execution_id')`,
    'the same request again: 202 with the same execution_id and Idempotent-Replayed: true (nothing new runs);',
    'then without the signature: 401 invalid_signature (nothing runs):',
    `  ${post.replace('curl -s ', 'curl -si ')}`,
    `  curl -s -X POST ${hookUrl} ${body} -d "$HOOK_BODY"`,
    'the execution: trigger {"type":"webhook","id":"intake"} and its result {status, count, started_by}:',
    `  curl -s ${f.base}/api/v1/executions/$HOOK_EXEC ${auth}`,
    "the flow's triggers (enabled, next_fire_at, last_execution_id, url); then resume the nightly schedule (the reply",
    "has its next_fire_at, the next 02:00 Paris time: ticks missed while paused are not caught up) and pause it again:",
    `  curl -s ${f.base}/api/v1/flows/${flowId}/triggers ${auth}`,
    `  ${patch(true)}`,
    `  ${patch(false)}`,
    ''
  ]
}
