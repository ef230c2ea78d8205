import { Type } from '@sinclair/typebox'
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { principalOf } from '../../plugins/flow-auth.js'
import {
  errors,
  FlowDetailSchema,
  flowDetailReply,
  flowReply,
  FlowSchema,
  FlowVersionDetailSchema,
  FlowVersionSchema,
  IdParams,
  MessageSchema,
  page,
  PageQuery,
  TagsSchema,
  versionReply
} from './schemas.js'

const MAX_DEFINITION = 262_144

const Definition = Type.String({ minLength: 1, maxLength: MAX_DEFINITION, description: 'The flow as YAML: metadata and nodes' })
const Name = Type.String({ minLength: 1, maxLength: 200, description: 'Defaults to metadata.name' })
const Description = Type.String({ maxLength: 2000, description: 'Defaults to metadata.description' })

const CreateBody = Type.Object(
  { name: Type.Optional(Name), description: Type.Optional(Description), definition: Definition, tags: Type.Optional(TagsSchema) },
  { additionalProperties: false }
)

const UpdateBody = Type.Object(
  {
    name: Type.Optional(Name),
    description: Type.Optional(Description),
    definition: Type.Optional(Definition),
    tags: Type.Optional(TagsSchema)
  },
  { additionalProperties: false, minProperties: 1 }
)

const ValidateBody = Type.Object({ definition: Definition }, { additionalProperties: false })

const ValidNode = Type.Object({
  id: Type.String(),
  type: Type.String(),
  next: Type.Record(Type.String(), Type.String(), { description: 'Action name to node id' })
})

const ValidateReply = Type.Object({
  valid: Type.Literal(true, { description: 'Always true here: an invalid definition is answered 422, as a save would be' }),
  name: Type.String({ description: 'metadata.name' }),
  description: Type.String({ description: "metadata.description ('' when absent)" }),
  version: Type.Union([Type.String(), Type.Null()], { description: 'metadata.version' }),
  start: Type.String({ description: 'The start node, as resolved (metadata.start, else `start`, else the one entry point)' }),
  nodes: Type.Array(ValidNode, { description: 'In the order the definition lists them' }),
  triggers: Type.Array(Type.Object({ id: Type.String(), type: Type.String() }))
})

/**
 * The console validates as its user types (debounced): generous for a person, but each check parses up to
 * 256 KiB of YAML on the event loop, so one account cannot loop on it. Counted per account (the session hook
 * runs before the route's own), so colleagues behind one proxy address do not share a limit.
 */
const VALIDATE_RATE = { max: 120, timeWindow: 60_000 }

const ListQuery = Type.Object({ tag: Type.Optional(Type.String({ minLength: 1, maxLength: 64 })), ...PageQuery }, { additionalProperties: false })

const ListReply = Type.Object({ flows: Type.Array(FlowSchema), total: Type.Integer(), limit: Type.Integer(), offset: Type.Integer() })

const VersionsReply = Type.Object({
  versions: Type.Array(FlowVersionSchema),
  total: Type.Integer(),
  limit: Type.Integer(),
  offset: Type.Integer()
})

const VersionParams = Type.Object({ id: IdParams.properties.id, version: Type.Integer({ minimum: 1, description: 'The revision number' }) })

/** Flow management: each account sees its own flows (admins all); every save is kept as a version. */
const flows: FastifyPluginAsyncTypebox = async (app) => {
  app.addHook('onRequest', app.requireSession)

  app.get(
    '/flows',
    {
      schema: {
        tags: ['flowrunner'],
        summary: 'List flows',
        querystring: ListQuery,
        response: { 200: ListReply, ...errors(400, 401) }
      }
    },
    async (request) => {
      const p = page(request.query)
      const found = await app.flows.list(principalOf(request), { tag: request.query.tag, ...p })
      return { flows: found.flows.map(flowReply), total: found.total, ...p }
    }
  )

  app.get(
    '/flows/:id',
    {
      schema: { tags: ['flowrunner'], summary: 'Get a flow with its definition', params: IdParams, response: { 200: FlowDetailSchema, ...errors(401, 404) } }
    },
    async (request) => flowDetailReply(await app.flows.get(principalOf(request), request.params.id))
  )

  app.post(
    '/flows',
    {
      schema: {
        tags: ['flowrunner'],
        summary: 'Create a flow',
        body: CreateBody,
        response: { 201: FlowSchema, ...errors(400, 401, 422) }
      }
    },
    async (request, reply) => {
      const flow = await app.flows.create(principalOf(request), request.body)
      return reply.code(201).send(flowReply(flow))
    }
  )

  // a static path: find-my-way prefers it to `/flows/:id`, and there is no POST `/flows/:id` to shadow
  app.post(
    '/flows/validate',
    {
      config: { rateLimit: { ...VALIDATE_RATE, keyGenerator: (request) => request.flowSession?.account.id ?? request.ip } },
      schema: {
        tags: ['flowrunner'],
        summary: 'Check a flow definition as creating it would, saving nothing',
        description: 'Answers 422 with the very error POST /flows would give for the same definition (details: field, reason, line, column, errors).',
        body: ValidateBody,
        response: { 200: ValidateReply, ...errors(400, 401, 422, 429) }
      }
    },
    async (request) => {
      const spec = app.flows.validate(principalOf(request), request.body.definition)
      return {
        valid: true as const,
        name: spec.metadata.name,
        description: spec.metadata.description ?? '',
        version: spec.metadata.version ?? null,
        start: spec.start,
        nodes: Object.entries(spec.nodes).map(([id, node]) => ({ id, type: node.type, next: node.next })),
        triggers: (spec.triggers ?? []).map((trigger) => ({ id: trigger.id, type: trigger.type }))
      }
    }
  )

  app.put(
    '/flows/:id',
    {
      schema: {
        tags: ['flowrunner'],
        summary: 'Update a flow (records a new version)',
        params: IdParams,
        body: UpdateBody,
        response: { 200: FlowSchema, ...errors(400, 401, 404, 422) }
      }
    },
    async (request) => flowReply(await app.flows.update(principalOf(request), request.params.id, request.body))
  )

  app.delete(
    '/flows/:id',
    {
      schema: { tags: ['flowrunner'], summary: 'Delete a flow and its versions', params: IdParams, response: { 200: MessageSchema, ...errors(401, 404) } }
    },
    async (request) => {
      await app.flows.delete(principalOf(request), request.params.id)
      return { message: 'Flow deleted successfully' }
    }
  )

  app.get(
    '/flows/:id/versions',
    {
      schema: {
        tags: ['flowrunner'],
        summary: 'List the saved versions of a flow, newest first',
        params: IdParams,
        querystring: Type.Object(PageQuery, { additionalProperties: false }),
        response: { 200: VersionsReply, ...errors(400, 401, 404) }
      }
    },
    async (request) => {
      const p = page(request.query)
      const found = await app.flows.revisions(principalOf(request), request.params.id, p)
      return { versions: found.revisions.map(versionReply), total: found.total, ...p }
    }
  )

  app.get(
    '/flows/:id/versions/:version',
    {
      schema: {
        tags: ['flowrunner'],
        summary: 'Get one saved version of a flow, with its definition',
        params: VersionParams,
        response: { 200: FlowVersionDetailSchema, ...errors(400, 401, 404) }
      }
    },
    async (request) => {
      const revision = await app.flows.revision(principalOf(request), request.params.id, request.params.version)
      return { ...versionReply(revision), definition: revision.definition }
    }
  )
}

export default flows
