import { DatabaseError } from '../../store/driver.js'
import type { Execution, NewLog } from '../../store/execution-rows.js'
import { isTransientError } from '../../store/transient-errors.js'
import type { Logger } from '../../util/logger.js'
import { truncateText } from '../../util/json-bounds.js'
import type { FlowSpec } from '../definition-schema.js'
import type { SecretMasker } from '../runtime/secret-masker.js'
import { logLine } from './records.js'
import type { Transitions } from './transitions.js'

/**
 * Fails an execution whose step could not be saved or settled for a reason that is not transient, and
 * completes its job in the same statement: nothing is retried that would fail the same way. The segment's
 * unsaved lines are dropped (they may be what the database refused). Should even that fail, the job is
 * completed anyway ('done') and the execution is left to the deadline sweep.
 */
export async function failUnsaved(
  deps: { log: Logger; transitions: Transitions },
  execution: Execution,
  run: { spec: FlowSpec; masker: SecretMasker; pending: NewLog[]; jobId: string },
  err: unknown
): Promise<'completed' | 'done'> {
  const nodeId = execution.nextNode
  const nodeType = nodeId === null ? undefined : run.spec.nodes[nodeId]?.type
  const e = err instanceof Error ? err : new Error(String(err))
  const cause = e instanceof DatabaseError ? `${e.message}, SQLSTATE ${e.code ?? '?'}` : `${e.name}: ${e.message}`
  // database and serialisation messages name types and limits, not values; masked and cut all the same
  const masked = truncateText(run.masker.text(cause), 200)
  const error = `internal_error: the step${nodeId === null ? '' : ` of node ${nodeId}`} could not be saved (${masked})`
  run.pending.length = 0
  deps.log.error({ executionId: execution.id, nodeId, cause: masked }, 'flowrunner: a step could not be saved; its execution failed')
  const line = logLine(execution.id, 'error', 'Node failed', { nodeId: nodeId ?? undefined, nodeType, data: { error, code: 'internal_error' } })
  try {
    await deps.transitions.fail(execution, error, nodeId, nodeType, [line.row], [line.event], run.jobId)
    return 'completed'
  } catch (failErr) {
    if (isTransientError(failErr)) throw failErr
    return 'done'
  }
}
