import { Type } from '@sinclair/typebox'
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { listOperation } from '../../src/evercycle/operation-listing.js'

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
  const apis = app.registry.list().map(listOperation)
  app.get('/list', { schema: { tags: ['gateway'], summary: 'List operations', response: { 200: ListSchema } } }, async () => ({
    status: 'success' as const,
    apis
  }))
}

export default list
