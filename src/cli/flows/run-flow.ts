import { confirm } from '@inquirer/prompts'
import { CliError } from '../cli-error.js'
import { formatJson, isTty, write, type OutStream } from '../output.js'
import { seg, type FlowRunnerClient } from './api-client.js'
import { ProgressView } from './progress-view.js'
import type { ExecutionDetail, RunReply } from './types.js'
import { watchExecution } from './watch-execution.js'

/** What a shell reports for a process ended by Ctrl-C (128 + SIGINT). */
export const EXIT_INTERRUPTED = 130

export interface RunOptions {
  wait: boolean
  out: OutStream
  err: OutStream
  /** Whether Ctrl-C asks before cancelling (stdin and stderr are a terminal). */
  interactive: boolean
}

/** DELETE /api/v1/executions/:id; an execution that already ended (409) is left as it is. */
async function cancel(client: FlowRunnerClient, id: string): Promise<boolean> {
  return (await client.maybe('DELETE', `/api/v1/executions/${seg(id)}`, [409])) !== undefined
}

/**
 * Ctrl-C while waiting: on a terminal, ask whether to cancel the execution (no: keep watching; a second
 * Ctrl-C at the question: yes); otherwise cancel without asking. Either way the command then waits for the
 * execution to end and exits 130.
 */
function onInterrupt(client: FlowRunnerClient, id: string, view: ProgressView, options: RunOptions, interrupted: () => void): () => void {
  let asking: AbortController | undefined
  let cancelling = false
  const doCancel = async (): Promise<void> => {
    if (cancelling) return
    cancelling = true
    interrupted()
    view.note(`cancelling ${id}…`)
    if (!(await cancel(client, id))) view.note(`${id} had already ended`)
  }
  return () => {
    if (asking !== undefined) {
      asking.abort()
      return
    }
    if (cancelling) return
    if (!options.interactive) {
      doCancel().catch((err: unknown) => view.note(`cancel failed: ${(err as Error).message}`))
      return
    }
    view.close()
    asking = new AbortController()
    confirm({ message: 'Cancel the execution?', default: false }, { output: process.stderr, signal: asking.signal })
      .then((yes) => (yes ? doCancel() : view.note('still running (Ctrl-C to ask again)')))
      // aborted by a second Ctrl-C, or the prompt closed: cancel
      .catch(() => doCancel())
      .catch((err: unknown) => view.note(`cancel failed: ${(err as Error).message}`))
      .finally(() => {
        asking = undefined
      })
  }
}

/**
 * `flows run`: starts the execution and prints what the API answered; with `wait`, shows node progress on
 * stderr until it ends, prints the ended execution on stdout and exits 0 (completed), 1 (failed or cancelled)
 * or 130 (interrupted with Ctrl-C, and cancelled).
 */
export async function runFlow(client: FlowRunnerClient, flowId: string, input: Record<string, unknown>, options: RunOptions): Promise<number> {
  const started = await client.call<RunReply>('POST', `/api/v1/flows/${seg(flowId)}/run`, { input })
  if (!options.wait) {
    write(options.out, formatJson(started, isTty(options.out)))
    return 0
  }
  const id = started.execution_id
  const view = new ProgressView(options.err, isTty(options.err))
  view.note(`execution ${id} started`)
  let interrupted = false
  const handler = onInterrupt(client, id, view, options, () => {
    interrupted = true
  })
  process.on('SIGINT', handler)
  const watch = watchExecution(client, id, (e) => view.event(e))
  try {
    const status = await watch.ended
    view.close()
    const ended = await client.call<ExecutionDetail>('GET', `/api/v1/executions/${seg(id)}`)
    write(options.out, formatJson(ended, isTty(options.out)))
    if (interrupted) return EXIT_INTERRUPTED
    if (status === 'completed') return 0
    if (status === 'failed') throw new CliError('execution_failed', `Execution ${id} failed: ${ended.error ?? 'unknown error'}`, { execution_id: id, node_id: ended.node_id ?? null })
    throw new CliError('execution_cancelled', `Execution ${id} was cancelled`, { execution_id: id })
  } finally {
    process.off('SIGINT', handler)
    watch.stop()
    view.close()
  }
}
