import { Type } from '@sinclair/typebox'
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import type { FastifyRequest } from 'fastify'
import type { Socket } from 'node:net'
import type { WebSocket } from 'ws'
import { domainError } from '../../src/errors.js'
import { FINAL_EVENTS, type ExecutionEvent } from '../../src/flows/engine/events.js'
import { ExecutionsRepository, type Execution } from '../../src/store/executions-repository.js'

/** A subscriber this far behind is closed rather than allowed to grow the server's memory. */
const MAX_BUFFERED_BYTES = 1024 * 1024

/** Closes normally when the execution is over (1000), or as 1013 "try again later" for a slow consumer. */
const NORMAL = 1000
const TOO_SLOW = 1013

function wsToken(request: FastifyRequest, query: { token?: string | undefined }): string | undefined {
  const header = request.headers.authorization
  const bearer = typeof header === 'string' ? /^Bearer\s+(\S+)\s*$/i.exec(header)?.[1] : undefined
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

function finalEvent(e: Execution, nodeType: string | undefined): ExecutionEvent | undefined {
  const timestamp = (e.completedAt ?? new Date()).toISOString()
  if (e.status === 'completed') return { type: 'execution_completed', execution_id: e.id, status: 'completed', result: e.result ?? null, timestamp }
  if (e.status === 'cancelled') return { type: 'execution_cancelled', execution_id: e.id, status: 'cancelled', timestamp }
  if (e.status === 'failed') {
    return {
      type: 'execution_failed',
      execution_id: e.id,
      status: 'failed',
      error: e.error ?? 'failed',
      ...(e.nodeId === null ? {} : { node_id: e.nodeId }),
      ...(nodeType === undefined ? {} : { node_type: nodeType }),
      timestamp
    }
  }
  return undefined
}

/**
 * `GET /ws/executions/:id`: live events of one execution for its owner (or an admin). Authentication and
 * ownership are checked before the upgrade, so a refused client gets a plain 401/404 and no socket.
 */
const executionSocket: FastifyPluginAsyncTypebox = async (app) => {
  app.get(
    '/ws/executions/:id',
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
        if ((await new ExecutionsRepository(app.db).get(id, owner)) === undefined) throw domainError('not_found', 'Execution not found')
      }
    },
    async (socket, request) => {
      const id = request.params.id
      const pending: ExecutionEvent[] = []
      let ready = false
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
      // subscribe before reading the state so nothing falls between the two
      const unsubscribe = app.executionEvents.subscribe(id, (event) => (ready ? send(event) : pending.push(event)))
      socket.on('close', () => {
        closed = true
        unsubscribe()
      })
      const execution = await new ExecutionsRepository(app.db).get(id)
      if (execution === undefined) {
        socket.close(NORMAL, 'execution not found')
        return
      }
      // the node running now (or failed), with its type, as the live messages name it
      const nodeId = execution.nextNode ?? execution.nodeId
      const nodeType = nodeId === null ? undefined : await app.engine.nodeType(execution.flowId, execution.revision, nodeId)
      send({
        type: 'execution_update',
        execution_id: id,
        status: execution.status,
        ...(execution.nextNode === null ? {} : { node_id: execution.nextNode, ...(nodeType === undefined ? {} : { node_type: nodeType }) }),
        timestamp: new Date().toISOString()
      })
      const final = finalEvent(execution, execution.nextNode === null ? nodeType : undefined)
      if (final !== undefined) {
        send(final)
        return
      }
      ready = true
      for (const event of pending.splice(0)) send(event)
    }
  )
}

export default executionSocket
