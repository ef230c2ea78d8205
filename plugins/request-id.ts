import fp from 'fastify-plugin'

/** Echoes the request id so a client can quote it; the id itself is chosen in `serverOptions`. */
export default fp(
  async (app) => {
    app.addHook('onRequest', async (request, reply) => {
      reply.header('x-request-id', request.id)
    })
  },
  { name: 'request-id' }
)
