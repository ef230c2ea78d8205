import { Type } from '@sinclair/typebox'
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'

const ParamSchema = Type.Object({ name: Type.String(), in: Type.String(), required: Type.Boolean(), description: Type.String() })
const ApiSchema = Type.Object({
  name: Type.String(),
  method: Type.String(),
  path: Type.String(),
  description: Type.String(),
  parameters: Type.Array(ParamSchema)
})
const ListSchema = Type.Object({ status: Type.Literal('success'), apis: Type.Array(ApiSchema) })

/** Every operation the registry knows, with where each parameter goes. */
const list: FastifyPluginAsyncTypebox = async (app) => {
  const apis = app.registry.list().map((op) => ({
    name: op.name,
    method: op.method,
    path: op.path,
    description: op.description,
    parameters: [
      ...Object.entries(op.pathParams).map(([name, p]) => ({
        name,
        in: p.from,
        required: p.default === undefined,
        description: p.description ?? ''
      })),
      ...Object.entries(op.querySchema.properties)
        .filter(([name]) => !(name in op.pathParams))
        .map(([name, schema]) => ({
          name,
          in: 'query',
          required: op.querySchema.required?.includes(name) ?? false,
          description: typeof schema.description === 'string' ? schema.description : ''
        }))
    ]
  }))
  app.get('/api/list', { schema: { tags: ['gateway'], summary: 'List operations', response: { 200: ListSchema } } }, async () => ({
    status: 'success' as const,
    apis
  }))
}

export default list
