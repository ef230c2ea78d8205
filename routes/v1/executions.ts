import { Type } from '@sinclair/typebox'
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { principalOf } from '../../plugins/flow-auth.js'
import { domainError } from '../../src/errors.js'
import { parseDuration } from '../../src/flows/duration.js'
import type { ChildCounts, Execution } from '../../src/flows/executions-service.js'
import { checkRunInput } from '../../src/flows/run-input.js'
import { IdempotencyKeyHeaders, idempotencyKey } from './idempotency.js'
import { errors, IdParams, MessageSchema, page, PageQuery, REPLAYED_HEADER, runReply, RunReply, StatusSchema } from './schemas.js'

const Timestamp = Type.String({ format: 'date-time' })
const Nullable = <T extends Parameters<typeof Type.Union>[0][number]>(t: T) => Type.Union([t, Type.Null()])
const LevelSchema = Type.Union([Type.Literal('debug'), Type.Literal('info'), Type.Literal('warn'), Type.Literal('error')])

const RunBody = Type.Object({ input: Type.Optional(Type.Record(Type.String(), Type.Unknown())) }, { additionalProperties: false })
/** The longest `?wait` a run may ask for. */
const MAX_WAIT_MS = 60_000
const RunQuery = Type.Object(
  {
    wait: Type.Optional(
      Type.String({
        maxLength: 20,
        description: 'Wait up to this long (e.g. "10s", "500ms"; a bare number is ms; at most 60s) for the execution to end: 200 with it when it does, else 202'
      })
    )
  },
  { additionalProperties: false }
)
const RerunBody = Type.Object(
  {
    from: Type.Optional(Type.String({ minLength: 1, maxLength: 200, description: '"failed" (default): the node that failed, or the foreach node with failed items; or a node id' })),
    input: Type.Optional(Type.Record(Type.String(), Type.Unknown(), { description: "Replaces the original's input" })),
    version: Type.Optional(
      Type.Union([Type.Literal('pinned'), Type.Literal('latest')], { description: '"pinned" (default): the original\'s flow version; "latest": the current one' })
    )
  },
  { additionalProperties: false }
)

const ExecutionSummary = Type.Object({
  id: Type.String(),
  flow_id: Type.String(),
  flow_version: Type.Integer({ description: 'The flow revision this execution runs' }),
  status: StatusSchema,
  started_at: Nullable(Timestamp),
  completed_at: Nullable(Timestamp),
  duration: Nullable(Type.Integer({ description: 'Milliseconds from start to completion' })),
  error: Type.Optional(Type.String()),
  node_id: Type.Optional(Type.String()),
  parent_id: Nullable(Type.String({ description: 'The execution whose flow or foreach node started this one' })),
  item_index: Nullable(Type.Integer({ description: "The item's position, for a foreach node's child" })),
  rerun_of: Nullable(Type.String({ description: 'The execution this one re-runs' })),
  trigger: Nullable(
    Type.Object(
      { type: Type.Union([Type.Literal('schedule'), Type.Literal('webhook')]), id: Type.String(), tick: Type.Optional(Timestamp) },
      { description: "The trigger that started it (a schedule's tick); null for a run through the API" }
    )
  )
})
const ChildCountsSchema = Type.Object(
  {
    total: Type.Integer(),
    completed: Type.Integer(),
    failed: Type.Integer(),
    running: Type.Integer(),
    waiting: Type.Integer(),
    queued: Type.Integer(),
    cancelled: Type.Integer()
  },
  { description: 'How its children stand (those of the last node that started any); absent when it has none' }
)
const ExecutionDetail = Type.Object({
  ...ExecutionSummary.properties,
  input: Type.Unknown(),
  result: Type.Unknown(),
  children: Type.Optional(ChildCountsSchema)
})
const ListQuery = Type.Object(
  {
    flow_id: Type.Optional(Type.String({ minLength: 1, maxLength: 200 })),
    status: Type.Optional(StatusSchema),
    parent_id: Type.Optional(Type.String({ minLength: 1, maxLength: 200, description: "That execution's children, in item order" })),
    ...PageQuery
  },
  { additionalProperties: false }
)
const ListReply = Type.Object({ executions: Type.Array(ExecutionSummary), total: Type.Integer(), limit: Type.Integer(), offset: Type.Integer() })
const LogsQuery = Type.Object({ level: Type.Optional(LevelSchema), ...PageQuery }, { additionalProperties: false })
const LogEntry = Type.Object({
  timestamp: Timestamp,
  level: LevelSchema,
  message: Type.String(),
  node_id: Nullable(Type.String()),
  node_type: Nullable(Type.String()),
  data: Type.Unknown()
})
const LogsReply = Type.Object({ logs: Type.Array(LogEntry), total: Type.Integer(), limit: Type.Integer(), offset: Type.Integer() })

function summary(e: Execution): typeof ExecutionSummary.static {
  return {
    id: e.id,
    flow_id: e.flowId,
    flow_version: e.revision,
    status: e.status,
    started_at: e.startedAt?.toISOString() ?? null,
    completed_at: e.completedAt?.toISOString() ?? null,
    duration: e.startedAt !== null && e.completedAt !== null ? e.completedAt.getTime() - e.startedAt.getTime() : null,
    ...(e.error === null ? {} : { error: e.error }),
    ...(e.nodeId === null ? {} : { node_id: e.nodeId }),
    parent_id: e.parent?.parentId ?? null,
    item_index: e.parent?.itemIndex ?? null,
    rerun_of: e.rerunOf,
    trigger: e.triggeredBy
  }
}

function detail(e: Execution, children: ChildCounts | undefined): typeof ExecutionDetail.static {
  return { ...summary(e), input: e.input, result: e.result ?? null, ...(children === undefined ? {} : { children }) }
}

/** Milliseconds of a `?wait`, or 400. */
function waitMs(wait: string): number {
  const ms = parseDuration(/^\d+$/.test(wait) ? Number(wait) : wait)
  if (ms === undefined || ms > MAX_WAIT_MS) {
    const reason = `must be a duration up to ${MAX_WAIT_MS / 1000}s, such as "10s" or "500ms"`
    throw domainError('invalid_request', `The request was invalid: wait ${reason}`, { details: { field: 'wait', reason, location: 'querystring' } })
  }
  return ms
}

/** Flow execution: run, inspect, list, cancel and read logs. Another account's execution is 404. */
const executions: FastifyPluginAsyncTypebox = async (app) => {
  app.addHook('onRequest', app.requireSession)
  const owner = (request: Parameters<typeof principalOf>[0]): string | null => {
    const p = principalOf(request)
    return p.role === 'admin' ? null : p.id
  }

  app.post(
    '/flows/:id/run',
    {
      schema: {
        tags: ['flowrunner'],
        summary: 'Run a flow',
        description:
          'With `?wait`, answers 200 with the execution once it has ended within the wait, else 202; the wait holds no worker. An Idempotency-Key returns the execution the first request with it created (24 h, per flow), with Idempotent-Replayed: true; the same key with another input is 422.',
        params: IdParams,
        querystring: RunQuery,
        headers: IdempotencyKeyHeaders,
        body: RunBody,
        response: { 200: ExecutionDetail, 201: RunReply, 202: RunReply, ...errors(400, 401, 404, 413, 422) }
      }
    },
    async (request, reply) => {
      const wait = request.query.wait === undefined ? undefined : waitMs(request.query.wait)
      const key = idempotencyKey(request.headers)
      const input = request.body?.input ?? {}
      checkRunInput(input, app.config.flowRunner.limits)
      const flow = await app.flows.get(principalOf(request), request.params.id)
      const target = { id: flow.id, revision: flow.revision, accountId: flow.accountId }
      let execution: Execution
      if (key === undefined) execution = await app.engine.run(target, input)
      else {
        const started = await app.triggers.runOnce(target, input, key)
        execution = started.execution
        if (started.replayed) reply.header(REPLAYED_HEADER, 'true')
      }
      if (wait === undefined) return reply.code(201).send(runReply(execution))
      // the wait ends early when the client goes away
      const gone = new AbortController()
      const onClose = (): void => gone.abort()
      request.raw.socket.once('close', onClose)
      try {
        const ended = await app.executions.waitFor(execution.id, owner(request), wait, gone.signal)
        if (ended === undefined) return reply.code(202).send(runReply(execution))
        return reply.code(200).send(detail(ended, await app.executions.children(ended.id)))
      } finally {
        request.raw.socket.off('close', onClose)
      }
    }
  )

  app.post(
    '/executions/:id/rerun',
    {
      schema: {
        tags: ['flowrunner'],
        summary: 'Run an ended execution again',
        description:
          'A new execution (`rerun_of` = id) starting at the node that failed (or the foreach node with failed items), or at `from`, with the results of the nodes that completed before it carried over. A foreach node re-run runs only the items that did not complete.',
        params: IdParams,
        body: RerunBody,
        response: { 201: RunReply, ...errors(400, 401, 404, 409, 413) }
      }
    },
    async (request, reply) => {
      const body = request.body ?? {}
      if (body.input !== undefined) checkRunInput(body.input, app.config.flowRunner.limits)
      const { original, plan } = await app.executions.planRerun(request.params.id, owner(request), body)
      const execution = await app.engine.rerun(original, plan)
      return reply.code(201).send(runReply(execution))
    }
  )

  app.get(
    '/executions/:id',
    { schema: { tags: ['flowrunner'], summary: 'Get an execution', params: IdParams, response: { 200: ExecutionDetail, ...errors(401, 404) } } },
    async (request) => {
      const e = await app.executions.get(request.params.id, owner(request))
      return detail(e, await app.executions.children(e.id))
    }
  )

  app.get(
    '/executions',
    { schema: { tags: ['flowrunner'], summary: 'List executions, newest first', querystring: ListQuery, response: { 200: ListReply, ...errors(400, 401) } } },
    async (request) => {
      const { limit, offset } = page(request.query)
      const { executions: list, total } = await app.executions.list(owner(request), {
        ...(request.query.flow_id === undefined ? {} : { flowId: request.query.flow_id }),
        ...(request.query.status === undefined ? {} : { status: request.query.status }),
        ...(request.query.parent_id === undefined ? {} : { parentId: request.query.parent_id }),
        limit,
        offset
      })
      return { executions: list.map(summary), total, limit, offset }
    }
  )

  app.delete(
    '/executions/:id',
    { schema: { tags: ['flowrunner'], summary: 'Cancel an execution', params: IdParams, response: { 200: MessageSchema, ...errors(401, 404, 409) } } },
    async (request) => {
      await app.engine.cancel(request.params.id, owner(request))
      return { message: 'Execution cancelled successfully' }
    }
  )

  app.get(
    '/executions/:id/logs',
    {
      schema: {
        tags: ['flowrunner'],
        summary: 'Execution logs, in order',
        params: IdParams,
        querystring: LogsQuery,
        response: { 200: LogsReply, ...errors(400, 401, 404) }
      }
    },
    async (request) => {
      const { limit, offset } = page(request.query)
      const { logs, total } = await app.executions.logs(request.params.id, owner(request), { ...(request.query.level === undefined ? {} : { level: request.query.level }), limit, offset })
      return {
        logs: logs.map((l) => ({ timestamp: l.timestamp.toISOString(), level: l.level, message: l.message, node_id: l.nodeId, node_type: l.nodeType, data: l.data ?? null })),
        total,
        limit,
        offset
      }
    }
  )
}

export default executions
