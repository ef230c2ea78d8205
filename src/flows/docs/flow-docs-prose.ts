import { EnvSchema } from '../../config.js'
import type { FlowDefinition } from '../definition-schema.js'
import type { ScheduleTriggerDefinition, WebhookTriggerDefinition } from '../triggers/trigger-schema.js'

/**
 * The parts of docs/flows.md that no schema holds: how the engine reads `next`, the expressions' scope,
 * secrets, versions, deletion. Kept beside the generator so a change in behaviour is one edit and one
 * `npm run docs`; the numbers come from the settings' own defaults (config.ts).
 */

type Setting = keyof typeof EnvSchema.properties

/** A setting and its default, e.g. "`FLOWRUNNER_NODE_TIMEOUT` (default 15000 ms)". */
function setting(name: Setting, unit = ''): string {
  const value: unknown = EnvSchema.properties[name].default
  return `\`${name}\` (default ${String(value)}${unit === '' ? '' : ` ${unit}`})`
}

/** The overview's flow: most flow-level keys at once. Validated by test/unit/flow-docs.test.ts. */
export const overviewExample: FlowDefinition = {
  metadata: { name: 'Sync paid orders', description: 'Sends a paid order to the warehouse and reports failures.', version: '1.2.0', start: 'fetch' },
  nodes: {
    fetch: {
      type: 'http.request',
      params: { url: 'https://shop.example.com/orders/${input.order_id}', headers: { authorization: 'Bearer ${secrets.SHOP_TOKEN}' } },
      retry: { max_attempts: 3, backoff_ms: 500 },
      timeout: '10s',
      next: { default: 'paid' }
    },
    paid: { type: 'condition', params: { expression: 'nodes.fetch.body.status = "paid"' }, next: { true: 'push', false: 'skip' } },
    push: {
      type: 'webhook',
      params: { url: 'https://warehouse.example.com/orders', body: '${nodes.fetch.body}', secret: '${secrets.WAREHOUSE_KEY}' },
      next: { error: 'report' }
    },
    skip: { type: 'transform', params: { expression: '{"skipped": input.order_id, "started_by": execution.trigger.type}' } },
    report: {
      type: 'http.request',
      params: { url: 'https://chat.example.com/alerts', method: 'POST', body: { text: 'Order ${input.order_id} not sent: ${nodes.push.error}' } }
    }
  }
}

const triggers: (ScheduleTriggerDefinition | WebhookTriggerDefinition)[] = [
  { id: 'nightly', type: 'schedule', cron: '0 2 * * *', timezone: 'Europe/Paris', catch_up: 'once', input: { status: 'active' } },
  { id: 'intake', type: 'webhook', secret: '${secrets.INTAKE_KEY}' }
]

/** The triggers section's flow (docs/flows-triggers.md has the whole story). */
export const triggersExample: FlowDefinition = {
  metadata: { name: 'Count assets' },
  triggers,
  nodes: {
    count: {
      type: 'transform',
      params: { expression: '{"status": execution.trigger.type = "webhook" ? input.body.status : input.status}' }
    }
  }
}

export const intro = `FlowRunner runs workflows written in YAML: **nodes** that call HTTP APIs, webhooks and Evercycle operations,
compute values with JSONata and branch, wait, or run other flows. This page is the reference for every key a flow
may hold and every node type. Save a flow with \`POST /api/v1/flows\` (\`{"definition": "<the YAML>"}\`) or \`PUT
/api/v1/flows/{id}\`; it is checked on save, and each problem comes back in one 422 \`validation_error\` naming its
field (\`nodes.fetch.params.url\`) with its line and column. Unknown keys are errors, so a typo such as \`nxt:\` is
refused rather than ignored. Triggers are detailed in [flows-triggers.md](flows-triggers.md), sub-flows and fan-out
in [flows-bulk.md](flows-bulk.md).`

export const overview = `A flow that fetches an order, sends it on when it is paid, and reports a failed delivery:`

export const nextActions = `After a node, the engine picks the entry of its \`next\` to follow:

- **Success:** the first of these actions that \`next\` has: the one the node gave (a \`condition\`'s value), then
  \`success\`, then \`default\`. With none of them the execution **completes**, and its result is this node's result.
- **Failure** (after its retries): the \`error\` entry, when there is one: the node's result is then
  \`{"error": "<message>"}\` (so \`nodes.<id>.error\` holds the message) and the execution goes on. Without an \`error\`
  entry the execution **fails** with that message and the node's id (\`node_id\`).
- **Loops** are allowed (an entry may point back to an earlier node): a node run again replaces its result in
  \`nodes.<id>\`. ${setting('FLOWRUNNER_STEP_LIMIT', 'nodes')} and ${setting('FLOWRUNNER_EXECUTION_TIMEOUT', 'ms')} stop a runaway loop.

Every target must be a node of the flow (checked on save). The **start node** is \`metadata.start\`, else the node
named \`start\`, else the one node that no \`next\` points to.`

export const retryTimeout = `**Retries** apply to failures that may pass: network errors, timeouts, 429 and 5xx answers, and a child execution
that failed (\`flow\`, \`foreach\`). A bad parameter, a failed expression or another 4xx fails the node at once. Between
attempts the execution is \`waiting\`: no worker is held. An \`evercycle\` node told to wait by Evercycle (429) or by
the gateway's upstream budget (an open circuit, no capacity) waits and runs again without using an attempt.

**Timeouts.** One attempt of a node may run for its \`timeout\`, else ${setting('FLOWRUNNER_NODE_TIMEOUT', 'ms')}, and
never past the execution's deadline, ${setting('FLOWRUNNER_EXECUTION_TIMEOUT', 'ms')} after the execution was created.
A node that runs out of time has failed (retryable); an execution past its deadline fails.`

export const triggersIntro = `\`triggers\` start the flow by themselves: a \`schedule\` (cron, in a time zone) or an inbound \`webhook\`
(\`POST /api/v1/hooks/{hook_id}\`). At most 20 per flow; ids are unique within the flow. Each entry has the keys of its
type. The details (missed ticks, signatures, idempotency keys, the API to pause a trigger or rotate a webhook URL)
are in [flows-triggers.md](flows-triggers.md).`

export const expressions = `Any string inside a node's \`params\` may hold \`\${...}\` templates (at any depth; object keys are left as written).
The inside is a [JSONata](https://docs.jsonata.org) expression, evaluated when the node runs:

- A string that is exactly one \`\${...}\` gives the expression's **value**, keeping its type (an object, a number, a list).
- Otherwise each \`\${...}\` is **interpolated** as text: a string as it is, null or nothing as an empty string, any
  other value as its JSON. \`$\${\` writes a literal \`\${\`.
- The \`expression\` of \`transform\` and \`condition\` is JSONata itself, written without \`\${...}\`.
- Nothing else is evaluated: \`metadata\`, \`next\`, \`retry\`, \`timeout\` and a trigger's \`input\` are taken as written.

Templates are checked for syntax on save (422 with the character position). They run in worker threads, never on
the server's event loop, within ${setting('FLOWRUNNER_EXPRESSION_TIMEOUT', 'ms')} per evaluation and
${setting('FLOWRUNNER_NODE_EXPRESSION_BUDGET', 'ms')} for all of a node's; past either, or on an error in the
expression, the node fails and is not retried.

The scope an expression reads:

| Name | What it holds |
|---|---|
| \`input\` | The execution's input: the \`input\` of \`POST /api/v1/flows/{id}/run\`, a schedule trigger's \`input\`, \`{"body", "headers", "query"}\` of an inbound webhook request, or the input a parent's \`flow\` or \`foreach\` node gave. \`{}\` when none was given. |
| \`nodes.<id>\` | The result of each node that has run in this execution (see each node type's **Result**); \`{"error": "<message>"}\` for a node that failed and followed its \`error\` entry. A node that has not run yet is absent. A re-run carries over the results of the nodes before the one it starts at. |
| \`secrets.NAME\` | The value of the flow owner's secret \`NAME\` (below). |
| \`execution.id\` | This execution's id. |
| \`execution.flow_id\` | The flow's id. |
| \`execution.started_at\` | When the execution started, ISO 8601 in UTC. |
| \`execution.trigger\` | What started it: \`{"type": "schedule", "id": "<trigger id>", "tick": "<ISO 8601>"}\` (the tick, not the moment it ran), \`{"type": "webhook", "id": "<trigger id>"}\`, or null when no trigger did (a run through the API, a child of a \`flow\` or \`foreach\` node). |
| \`item\`, \`index\` | Only in a \`foreach\` node's \`input\`: the current item and its position (from 0). |`

export const secrets = `\`\${secrets.NAME}\` reads a secret of the account that owns the flow, whoever started the run. Secrets are stored
per account with \`POST /api/v1/accounts/{account_id}/secrets\` (\`{"key", "value"}\`, a value of at least 8
characters), encrypted at rest, and never returned by the API. A flow holds only the reference, so changing a value
needs no new flow version. The value is masked as \`***\` wherever the execution writes (node results, logs, errors),
as written and in its JSON-escaped and URL-encoded forms; a value a flow transforms (\`$uppercase\`, a slice, a hash)
is not recognised. A \`webhook\` node's \`secret\` and a webhook trigger's \`secret\` must be such a reference: a literal
value is refused on save, since anyone who can read the flow could read it.`

export const versions = `Two different things are called a version:

- **\`version\`**, in the API's flow and version replies, is \`metadata.version\` as you wrote it: a free-form label
  such as \`"1.2.0"\`, or null. The server never reads, compares or increments it; two saves may carry the same one.
- **The revision**, a number the server gives each saved definition: 1 when the flow is created, then one more on
  every update (\`PUT /api/v1/flows/{id}\`, even one that changes only the tags). It is \`revision\` in
  \`GET /api/v1/flows/{id}/versions\`, the \`{version}\` in \`GET /api/v1/flows/{id}/versions/{version}\`, and
  **\`flow_version\`** in every execution (\`GET /api/v1/executions/{id}\`): the revision that execution runs.

Saved revisions are never changed. An execution is pinned to the revision current when it was created, so saving a
new one does not change executions already queued or running. A re-run (\`POST /api/v1/executions/{id}/rerun\`) uses
the original's revision unless it asks for \`"version": "latest"\`; triggers, and the \`flow\` and \`foreach\`
nodes that start other flows, run the revision current at that moment.`

export const deletion = `\`DELETE /api/v1/flows/{id}\` deletes the flow **and everything recorded about it**: its revisions, its triggers (a
webhook URL then answers 404), its idempotency keys and **all its executions**, finished or not, with their logs and
the child executions they started (even those running other flows). The database does it in the one \`DELETE\`: these
tables reference the flow, or the execution, with \`ON DELETE CASCADE\` (migrations 001, 002, 010 and 011). That is
deliberate: an execution is pinned to a revision and runs from that revision's stored definition, which goes with
the flow, so an execution left behind could be neither continued, re-run nor read against its definition.

Nothing is cancelled first: an execution running at that moment loses its row, so no further node of it runs and no
result is saved, but a call its current node already made (a request sent, a webhook delivered) is not undone. To
keep a flow's history, keep the flow and pause its triggers (\`PATCH /api/v1/flows/{id}/triggers/{trigger_id}\`
with \`{"enabled": false}\`); finished executions are pruned after ${setting('FLOWRUNNER_RETENTION_DAYS', 'days')} anyway.`
