import websocket from '@fastify/websocket'
import fp from 'fastify-plugin'

/** 1001 "going away": the client should reconnect, to another replica if this one is leaving. */
const GOING_AWAY = 1001

/**
 * WebSockets for live execution updates. Browsers cannot set an Authorization header on a WebSocket, so a
 * client may offer the token as the subprotocol pair `bearer, <token>`; the server then answers `bearer`.
 * On shutdown every socket is closed with 1001 so clients reconnect elsewhere.
 */
export default fp(
  async (app) => {
    await app.register(websocket, {
      options: {
        maxPayload: 4096,
        handleProtocols: (protocols) => (protocols.has('bearer') ? 'bearer' : false)
      },
      preClose: (done) => {
        for (const client of app.websocketServer.clients) client.close(GOING_AWAY, 'server shutting down')
        app.server.close(() => done())
      }
    })
  },
  { name: 'websocket' }
)
