import { Type } from '@sinclair/typebox'
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { principalOf } from '../../plugins/flow-auth.js'
import type { Execution } from '../../src/flows/executions-service.js'
import { checkRunInput } from '../../src/flows/run-input.js'
import { errors, IdParams, MessageSchema, page, PageQuery } from './schemas.js'

const Timestamp = Type.String({ format: 'date-time' })
const Nullable = <T extends Parameters<typeof Type.Union>[0][number]>(t: T) => Type.Union([t, Type.Null()])
const StatusSchema = Type.Union([
  Type.Literal('queued'),
  Type.Literal('running'),
  Type.Literal('completed'),
  Type.Literal('failed'),
  Type.Literal('cancelled')
])
const LevelSchema = Type.Union([Type.Literal('debug'), Type.Literal('info'), Type.Literal('warn'), Type.Literal('error')])

const RunBody = Type.Object({ input: Type.Optional(Type.Record(Type.String(), Type.Unknown())) }, { additionalProperties: false })
const RunReply = Type.Object({ execution_id: Type.String(), flow_id: Type.String(), status: StatusSchema, created_at: Timestamp })

const ExecutionSummary = Type.Object({
  id: Type.String(),
  flow_id: Type.String(),
  flow_version: Type.Integer({ description: 'The flow revision this execution runs' }),
  status: StatusSchema,
  started_at: Nullable(Timestamp),
  completed_at: Nullable(Timestamp),
  duration: Nullable(Type.Integer({ description: 'Milliseconds from start to completion' })),
  error: Type.Optional(Type.String()),
  node_id: Type.Optional(Type.String())
})
const ExecutionDetail = Type.Object({
  ...ExecutionSummary.properties,
  input: Type.Unknown(),
  result: Type.Unknown()
})
const ListQuery = Type.Object(
  { flow_id: Type.Optional(Type.String({ minLength: 1, maxLength: 200 })), status: Type.Optional(StatusSchema), ...PageQuery },
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
    ...(e.nodeId === null ? {} : { node_id: e.nodeId })
  }
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
        params: IdParams,
        body: RunBody,
        response: { 201: RunReply, ...errors(400, 401, 404, 413) }
      }
    },
    async (request, reply) => {
      checkRunInput(request.body?.input ?? {}, app.config.flowRunner.limits)
      const flow = await app.flows.get(principalOf(request), request.params.id)
      const execution = await app.engine.run({ id: flow.id, revision: flow.revision, accountId: flow.accountId }, request.body?.input ?? {})
      return reply.code(201).send({
        execution_id: execution.id,
        flow_id: execution.flowId,
        status: execution.status,
        created_at: execution.createdAt.toISOString()
      })
    }
  )

  app.get(
    '/executions/:id',
    { schema: { tags: ['flowrunner'], summary: 'Get an execution', params: IdParams, response: { 200: ExecutionDetail, ...errors(401, 404) } } },
    async (request) => {
      const e = await app.executions.get(request.params.id, owner(request))
      return { ...summary(e), input: e.input, result: e.result ?? null }
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
