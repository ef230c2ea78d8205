import { Type } from '@sinclair/typebox'
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import secureJson from 'secure-json-parse'
import { FORBIDDEN_JSON_KEY } from '../../plugins/json-body.js'
import { domainError } from '../../src/errors.js'
import { checkRunInput } from '../../src/flows/run-input.js'
import { IdempotencyKeyHeaders, idempotencyKey } from './idempotency.js'
import { errors, REPLAYED_HEADER, runReply, RunReply } from './schemas.js'

declare module 'fastify' {
  interface FastifyRequest {
    /** The body as received, for the webhook's signature. */
    rawBody?: Buffer
  }
}

const HookParams = Type.Object({ hook_id: Type.String({ minLength: 1, maxLength: 100 }) })
const HookQuery = Type.Record(Type.String(), Type.String())
const HookBody = Type.Unknown({ description: 'Any JSON; it becomes the execution\'s input.body' })

/**
 * Inbound webhooks: `POST /hooks/{hook_id}` starts the trigger's flow with `{body, headers, query}` as its
 * input. No FlowRunner token: the unguessable hook id, and the signature when the trigger has a secret, are
 * the credentials. The raw body is kept (its signature is over the bytes) and parsed as the API's JSON is.
 */
const hooks: FastifyPluginAsyncTypebox = async (app) => {
  const bodyLimit = app.config.flowRunner.limits.maxInputBytes
  app.removeContentTypeParser('application/json')
  app.addContentTypeParser('application/json', { parseAs: 'buffer', bodyLimit }, (request, body, done) => {
    const raw = body as Buffer
    request.rawBody = raw
    if (raw.length === 0) return done(null, null)
    try {
      done(null, secureJson.parse(raw, null, { protoAction: 'error', constructorAction: 'error' }))
    } catch (err) {
      const forbidden = /forbidden (prototype|constructor) property/.test((err as Error).message)
      done(forbidden ? new FORBIDDEN_JSON_KEY() : domainError('invalid_request', 'The request body is not valid JSON'), undefined)
    }
  })

  app.post(
    '/hooks/:hook_id',
    {
      bodyLimit,
      schema: {
        tags: ['flowrunner'],
        summary: "Start a flow from its webhook trigger",
        description:
          'No token: the hook id is the credential. With the trigger\'s `secret`, X-FlowRunner-Signature must be `sha256=<hex HMAC-SHA256 of the raw body>`. An Idempotency-Key returns the execution the first request with it created (24 h, per flow), with Idempotent-Replayed: true.',
        security: [],
        params: HookParams,
        querystring: HookQuery,
        headers: IdempotencyKeyHeaders,
        body: HookBody,
        response: { 202: RunReply, ...errors(400, 401, 404, 413, 415, 422, 429) }
      }
    },
    async (request, reply) => {
      const body = request.body ?? null
      checkRunInput({ body }, app.config.flowRunner.limits)
      const started = await app.triggers.hook(request.params.hook_id, {
        rawBody: request.rawBody ?? Buffer.alloc(0),
        body,
        headers: request.headers,
        query: request.query,
        idempotencyKey: idempotencyKey(request.headers)
      })
      if (started.replayed) reply.header(REPLAYED_HEADER, 'true')
      return reply.code(202).send(runReply(started.execution))
    }
  )
}

export default hooks
