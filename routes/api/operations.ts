import type { Socket } from 'node:net'
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import type { FastifyReply, FastifyRequest, HTTPMethods } from 'fastify'
import { domainError } from '../../src/errors.js'
import { successEnvelope, upstreamError } from '../../src/evercycle/envelope.js'
import { HTTP_METHODS, type Operation } from '../../src/evercycle/operation.js'
import { AbortEmitter } from '../../src/evercycle/upstream/abort-emitter.js'
import { GatewayErrorSchema, SuccessEnvelopeSchema } from '../../app/gateway-schemas.js'

const connectionSignals = new WeakMap<Socket, AbortEmitter>()

/**
 * Aborted when the client's connection closes: a client that goes away stops paying for its upstream call.
 * One signal per connection, not per request (an AbortController per request costs each one its listener
 * bookkeeping), and an EventEmitter rather than an AbortSignal: undici adds and removes a listener on every
 * request, which on an EventTarget costs several microseconds. The connection, not the response: a pipelined
 * request's response has no socket yet, and the request's own `close` fires as soon as its body has been read.
 */
function clientGone(socket: Socket): AbortEmitter {
  let signal = connectionSignals.get(socket)
  if (signal === undefined) {
    const closed = new AbortEmitter()
    signal = closed
    if (socket.destroyed) closed.abort()
    else socket.once('close', () => closed.abort())
    connectionSignals.set(socket, closed)
  }
  return signal
}

/** `Cache-Control: no-cache` (or `Pragma: no-cache`): the client wants Evercycle's answer, not a cached one. */
function noCache(request: FastifyRequest): boolean {
  const control = request.headers['cache-control']
  if (typeof control === 'string' && /(^|,)\s*no-cache\s*(,|$)/i.test(control)) return true
  return request.headers.pragma === 'no-cache'
}

/**
 * `/api/<operation>` for every registry entry, generated at boot: the operation's own method with its query
 * and body schemas, and 405 (with `Allow`) for every other method.
 */
const operations: FastifyPluginAsyncTypebox = async (app) => {
  for (const op of app.registry.list()) {
    const url = `/${op.name}`
    app.route({
      method: op.method,
      url,
      config: { auth: true },
      schema: {
        tags: ['operations'],
        security: [{ apiKey: [] }, { bearer: [] }, { session: [] }],
        summary: op.description,
        description: `${op.method} ${op.path} on Evercycle`,
        querystring: op.querySchema,
        ...(op.bodySchema === undefined ? {} : { body: op.bodySchema }),
        response: { 200: SuccessEnvelopeSchema, '4xx': GatewayErrorSchema, '5xx': GatewayErrorSchema }
      },
      // the envelope is written as text around the upstream bytes, never re-serialized
      handler: (request, reply) => callOperation(op, request, reply)
    })
    const others = HTTP_METHODS.filter((m) => m !== op.method) as HTTPMethods[]
    if (op.method !== 'GET') others.push('HEAD')
    app.route({
      method: others,
      url,
      schema: { hide: true },
      handler: async (request, reply) => {
        reply.header('allow', op.method === 'GET' ? 'GET, HEAD' : op.method)
        throw domainError('method_not_allowed', `${request.method} is not allowed for ${op.name}; use ${op.method}`, {
          details: { allowed: op.method }
        })
      }
    })
  }

  async function callOperation(op: Operation, request: FastifyRequest, reply: FastifyReply): Promise<void> {
    const res = await app.operations.call(
      op,
      { query: request.query as Record<string, unknown>, body: request.body as Record<string, unknown> | undefined },
      { identity: request.identity, requestId: request.id, signal: clientGone(request.raw.socket), bypassCache: noCache(request) }
    )
    const cache = res.headers['x-cache']
    if (typeof cache === 'string') reply.header('x-cache', cache)
    if (res.statusCode < 200 || res.statusCode >= 300) throw await upstreamError(res)
    const envelope = await successEnvelope(res)
    reply.code(envelope.statusCode).type('application/json; charset=utf-8')
    reply.send(envelope.kind === 'buffered' ? envelope.payload : envelope.stream)
    // Awaited only while the reply is still under way. A buffered payload has been written by now (the onSend
    // hooks are synchronous), and awaiting the reply, a thenable, would cost promise jobs on every request. A
    // stream's headers only go out with its first chunk, so Fastify must not see this resolve (and send an
    // empty reply itself) before the reply has finished.
    if (!reply.sent) await reply
  }
}

export default operations
