import { Type } from '@sinclair/typebox'
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import type { FastifyRequest } from 'fastify'
import type { Socket } from 'node:net'
import type { WebSocket } from 'ws'
import { domainError } from '../../src/errors.js'
import { FINAL_EVENTS, type ExecutionEvent } from '../../src/flows/engine/events.js'
import type { Execution } from '../../src/flows/executions-service.js'
import { bearerToken } from '../../src/http/bearer-token.js'

/** A subscriber this far behind is closed rather than allowed to grow the server's memory. */
const MAX_BUFFERED_BYTES = 1024 * 1024

/** Closes normally when the execution is over (1000), or as 1013 "try again later" for a slow consumer. */
const NORMAL = 1000
const TOO_SLOW = 1013

function wsToken(request: FastifyRequest, query: { token?: string | undefined }): string | undefined {
  const bearer = bearerToken(request.headers.authorization)
  if (bearer !== undefined) return bearer
  if (query.token !== undefined) return query.token
  const protocols = request.headers['sec-websocket-protocol']
  if (typeof protocols === 'string') {
    const parts = protocols.split(',').map((p) => p.trim())
    const i = parts.indexOf('bearer')
    if (i !== -1 && parts[i + 1] !== undefined) return parts[i + 1]
  }
  return undefined
}

/**
 * The TCP socket under a WebSocket, to cork: ws exposes none, and writes each message with its own system
 * call. An engine step publishes several events at once (a node completed, the next one started, their log
 * lines), and corking until the tick ends sends them in one write.
 */
function tcpSocket(ws: WebSocket): Socket | undefined {
  const raw: unknown = Reflect.get(ws, '_socket')
  return raw !== null && typeof raw === 'object' && 'cork' in raw && 'uncork' in raw ? (raw as Socket) : undefined
}

/**
 * What the check before the upgrade hands the socket: the execution as read, and the events published since
 * the subscription that preceded that read (so nothing falls between the two).
 */
interface Watch {
  /** The execution as read after subscribing (and found to be the caller's). */
  execution: Execution
  pending: ExecutionEvent[]
  /** Set once the socket is open: events then go straight to it. */
  deliver: ((event: ExecutionEvent) => void) | undefined
  unsubscribe: () => void
}

/**
 * `GET /ws/executions/:id`: live events of one execution for its owner (or an admin). Authentication and
 * ownership are checked before the upgrade, so a refused client gets a plain 401/404 and no socket.
 */
const executionSocket: FastifyPluginAsyncTypebox = async (app) => {
  const watches = new WeakMap<FastifyRequest, Watch>()
  app.get(
    '/executions/:id',
    {
      websocket: true,
      schema: {
        tags: ['flowrunner'],
        summary: 'Live execution updates (WebSocket)',
        params: Type.Object({ id: Type.String({ minLength: 1, maxLength: 200 }) }),
        querystring: Type.Object({ token: Type.Optional(Type.String({ maxLength: 4096 })) })
      },
      preValidation: async (request) => {
        const token = wsToken(request, request.query as { token?: string })
        if (token === undefined) throw domainError('unauthorized', 'Authentication required: Bearer token, ?token= or the bearer subprotocol')
        const session = await app.sessions.authenticate(token)
        const owner = session.account.role === 'admin' ? null : session.account.id
        const id = (request.params as { id: string }).id
        // events published from the subscription on wait here until the socket is open
        const buffer: Pick<Watch, 'pending' | 'deliver'> = { pending: [], deliver: undefined }
        const { execution, unsubscribe } = await app.executions.watch(id, owner, (event) =>
          buffer.deliver === undefined ? buffer.pending.push(event) : buffer.deliver(event)
        )
        const watch: Watch = Object.assign(buffer, { execution, unsubscribe })
        watches.set(request, watch)
        // a handshake that never completes must not leave the subscription behind
        request.raw.socket.once('close', watch.unsubscribe)
      }
    },
    async (socket, request) => {
      let closed = false
      const tcp = tcpSocket(socket)
      let corked = false
      const uncork = (): void => {
        corked = false
        tcp?.uncork()
      }
      const send = (event: ExecutionEvent): void => {
        if (closed) return
        if (socket.bufferedAmount > MAX_BUFFERED_BYTES) {
          closed = true
          socket.close(TOO_SLOW, 'subscriber too slow')
          return
        }
        if (tcp !== undefined && !corked) {
          corked = true
          tcp.cork()
          process.nextTick(uncork)
        }
        socket.send(JSON.stringify(event))
        if (FINAL_EVENTS.has(event.type)) {
          closed = true
          socket.close(NORMAL, 'execution finished')
        }
      }
      const watch = watches.get(request)
      if (watch === undefined) {
        socket.close(1011, 'subscription missing')
        return
      }
      socket.on('close', () => {
        closed = true
        watch.unsubscribe()
      })
      // the nodes done so far, then the node running now (or failed), with its type, as the live messages name it
      const { completed, state, final } = await app.executions.snapshot(watch.execution)
      for (const event of completed) send(event)
      send(state)
      if (final !== undefined) {
        send(final)
        return
      }
      for (const event of watch.pending.splice(0)) send(event)
      watch.deliver = send
    }
  )
}

export default executionSocket
