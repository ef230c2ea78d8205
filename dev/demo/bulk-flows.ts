import { ensureFlow, type DemoSetup } from './demo-flow.js'
import type { FlowRunnerApi } from './flowrunner-api.js'

/**
 * The demo's bulk work: a flow that lists every asset and grades each one in a child execution (a `foreach`
 * node over a second flow). Grading reads the asset again, picks a grade and a price from its `condition`
 * (none: it keeps its grade), and writes them to the pricebook; a condition the table does not know fails that
 * item alone, which the banner uses to show the failed children and a re-run of only those.
 */

export const BULK_FLOW_NAME = 'Demo: grade assets'
export const GRADE_FLOW_NAME = 'Demo: grade one asset'
/** A condition grading refuses, and one it takes: what the banner's asset is created with, then fixed to. */
export const UNKNOWN_CONDITION = 'cracked'
export const KNOWN_CONDITION = 'worn'

export const GRADE_FLOW = `metadata:
  name: "${GRADE_FLOW_NAME}"
  description: "Reads one asset, picks its grade and price from its condition, and sets them in the pricebook"
  version: "1.0.0"
  start: fetch

nodes:
  fetch:
    type: evercycle
    params:
      operation: get-asset-id
      params:
        id: "\${input.asset_id}"
    retry:
      max_attempts: 3
      backoff_ms: 200
    timeout: 10s
    next:
      default: decide

  # no condition: the asset keeps its grade; a condition the table does not know fails the item
  decide:
    type: transform
    params:
      expression: |
        (
          $a := nodes.fetch.body;
          $grade := $exists($a.condition) ? $lookup({"new": "A", "good": "B", "${KNOWN_CONDITION}": "C"}, $a.condition) : ($exists($a.grade) ? $a.grade : "C");
          $exists($grade)
            ? {"id": $a.id, "grade": $grade, "price": $lookup({"A": 300, "B": 200, "C": 80}, $grade)}
            : $error("cannot grade asset " & $a.id & ": unknown condition '" & $a.condition & "'")
        )
    next:
      default: price

  price:
    type: evercycle
    params:
      operation: grade
      body:
        id: "\${nodes.decide.id}"
        grade: "\${nodes.decide.grade}"
        price: "\${nodes.decide.price}"
    retry:
      max_attempts: 3
      backoff_ms: 200
    timeout: 10s
`

export function bulkFlowDefinition(gradeFlowId: string): string {
  return `metadata:
  name: "${BULK_FLOW_NAME}"
  description: "Grades every asset Evercycle lists, each one a child execution of '${GRADE_FLOW_NAME}'"
  version: "1.0.0"
  start: assets

nodes:
  assets:
    type: evercycle
    params:
      operation: get-all
    timeout: 10s
    next:
      default: grade_each

  # one child execution per asset, five at a time; a failed item does not stop the others
  grade_each:
    type: foreach
    params:
      items: "\${nodes.assets.body.assets}"
      flow: "${gradeFlowId}"
      input:
        asset_id: "\${item.id}"
      concurrency: 5
      on_item_error: continue
`
}

export interface BulkSetup {
  bulkFlowId: string
  gradeFlowId: string
  outcome: { bulk: DemoSetup['flow']; grade: DemoSetup['flow'] }
}

/** Makes sure both flows exist as the demo defines them (the caller is logged in). */
export async function setUpBulkFlows(api: FlowRunnerApi): Promise<BulkSetup> {
  const grade = await ensureFlow(api, GRADE_FLOW_NAME, GRADE_FLOW)
  const bulk = await ensureFlow(api, BULK_FLOW_NAME, bulkFlowDefinition(grade.id))
  return { bulkFlowId: bulk.id, gradeFlowId: grade.id, outcome: { bulk: bulk.outcome, grade: grade.outcome } }
}
