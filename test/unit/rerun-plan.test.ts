import tap from 'tap'
import { DomainError } from '../../src/errors.js'
import { planRerun, type RerunSources } from '../../src/flows/rerun-plan.js'
import type { Execution } from '../../src/store/execution-rows.js'

// The original: a → b → each → d; b's result and a's are carried into a re-run that starts at `each`.
const ORDER: Awaited<ReturnType<RerunSources['nodeOrder']>> = [
  { nodeId: 'a', event: 'started' },
  { nodeId: 'a', event: 'completed' },
  { nodeId: 'b', event: 'started' },
  { nodeId: 'b', event: 'completed' },
  { nodeId: 'each', event: 'started' },
  { nodeId: 'each', event: 'completed' },
  { nodeId: 'd', event: 'started' }
]

function execution(over: Partial<Execution> = {}): Execution {
  return {
    id: 'exec-1',
    flowId: 'flow-1',
    revision: 2,
    accountId: 'acct',
    status: 'failed',
    input: { items: [1, 2] },
    result: null,
    error: 'boom',
    nodeId: 'd',
    nextNode: null,
    attempt: 1,
    nodes: { a: { n: 1 }, b: { n: 2 }, each: { total: 2 }, d: { error: 'boom' } },
    steps: 3,
    lastNode: 'each',
    createdAt: new Date(),
    startedAt: new Date(),
    completedAt: new Date(),
    deadlineAt: new Date(),
    jobId: null,
    parent: null,
    depth: 0,
    rerunOf: null,
    triggeredBy: null,
    waiting: null,
    ...over
  }
}

function sources(over: Partial<RerunSources> = {}): RerunSources {
  return {
    latestRevision: async () => 5,
    hasNode: async (_flow, _revision, node) => ['a', 'b', 'each', 'd'].includes(node),
    nodeOrder: async () => ORDER,
    nodeWithFailedChildren: async () => undefined,
    ...over
  }
}

async function refused(t: Tap, promise: Promise<unknown>, code: string): Promise<void> {
  const err = await promise.then(
    () => undefined,
    (e: unknown) => e
  )
  t.ok(err instanceof DomainError, 'a domain error')
  t.equal((err as DomainError).code, code)
}
type Tap = Parameters<Parameters<typeof tap.test>[0]>[0]

tap.test('from failed: the failed node, with every node completed before it carried over', async (t) => {
  const plan = await planRerun(sources(), execution(), {})
  t.same(plan, { revision: 2, startNode: 'd', nodes: { a: { n: 1 }, b: { n: 2 }, each: { total: 2 } }, input: { items: [1, 2] } })
})

tap.test('from a node: only the nodes completed before it first started; input and version as asked', async (t) => {
  const plan = await planRerun(sources(), execution(), { from: 'b', input: { items: [3] }, version: 'latest' })
  t.same(plan, { revision: 5, startNode: 'b', nodes: { a: { n: 1 } }, input: { items: [3] } })
})

tap.test('a completed execution re-runs from its foreach with failed items; with none, 409', async (t) => {
  const completed = execution({ status: 'completed', nodeId: null, error: null })
  const plan = await planRerun(sources({ nodeWithFailedChildren: async () => 'each' }), completed, {})
  t.equal(plan.startNode, 'each')
  t.same(plan.nodes, { a: { n: 1 }, b: { n: 2 } }, 'the foreach node itself is not carried: it runs again')
  await refused(t, planRerun(sources(), completed, {}), 'conflict')
})

tap.test('failed without a node (its deadline): the last node it started', async (t) => {
  const plan = await planRerun(sources(), execution({ nodeId: null }), { from: 'failed' })
  t.equal(plan.startNode, 'd')
})

tap.test('a live execution is 409; a node the version lacks is 400', async (t) => {
  for (const status of ['queued', 'running', 'waiting'] as const) await refused(t, planRerun(sources(), execution({ status }), {}), 'conflict')
  await refused(t, planRerun(sources(), execution(), { from: 'nope' }), 'invalid_request')
})
