import fp from 'fastify-plugin'

/** Echoes the request id so a client can quote it; the id itself is chosen in `serverOptions`. */
export default fp(
  async (app) => {
    // synchronous: an async hook costs every request a promise and a microtask for one assignment
    app.addHook('onRequest', (request, reply, done) => {
      reply.header('x-request-id', request.id)
      done()
    })
  },
  { name: 'request-id' }
)
