import { Type } from '@sinclair/typebox'
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'

export const HealthSchema = Type.Object({ status: Type.Literal('ok'), message: Type.String() })

/** Liveness as the old server answered it: no I/O, so a slow Evercycle never fails the probe. */
const health: FastifyPluginAsyncTypebox = async (app) => {
  const payload = { status: 'ok' as const, message: `${app.config.serverName} is running` }
  const schema = { tags: ['gateway'], summary: 'Liveness', response: { 200: HealthSchema } }
  app.get('/health', { schema }, async () => payload)
  app.get('/api/health', { schema }, async () => payload)
}

export default health
