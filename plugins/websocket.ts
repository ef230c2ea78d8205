import websocket from '@fastify/websocket'
import fp from 'fastify-plugin'

/**
 * WebSockets for live execution updates. Browsers cannot set an Authorization header on a WebSocket, so a
 * client may offer the token as the subprotocol pair `bearer, <token>`; the server then answers `bearer`.
 */
export default fp(
  async (app) => {
    await app.register(websocket, {
      options: {
        maxPayload: 4096,
        handleProtocols: (protocols) => (protocols.has('bearer') ? 'bearer' : false)
      }
    })
  },
  { name: 'websocket' }
)
