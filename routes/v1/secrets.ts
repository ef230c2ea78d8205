import { Type } from '@sinclair/typebox'
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { principalOf } from '../../plugins/flow-auth.js'
import { SECRET_KEY_PATTERN, SECRET_VALUE_MAX_LENGTH, SECRET_VALUE_MIN_LENGTH } from '../../src/secrets/secret-service.js'
import { ErrorSchema, errors, MessageSchema, SecretSchema, secretReply } from './schemas.js'

const AccountParams = Type.Object({ account_id: Type.String({ minLength: 1, maxLength: 200 }) })
const SecretParams = Type.Object({ ...AccountParams.properties, key: Type.String({ minLength: 1, maxLength: 128 }) })

const CreateBody = Type.Object(
  {
    key: Type.String({ pattern: SECRET_KEY_PATTERN, description: 'Letters, digits and _, not starting with a digit; flows read it as secrets.<KEY>' }),
    // an empty value is a malformed request (400); a value shorter than the minimum is refused by the service
    // as a validation error (422), the status the reference gives for a request that fails validation
    value: Type.String({
      minLength: 1,
      maxLength: SECRET_VALUE_MAX_LENGTH,
      description: `Stored encrypted; never returned. At least ${SECRET_VALUE_MIN_LENGTH} characters (422 otherwise), so it can be masked wherever a flow writes`
    })
  },
  { additionalProperties: false }
)

const UpdateBody = Type.Object({ value: CreateBody.properties.value }, { additionalProperties: false })

/** An account's secrets: keys and timestamps go out, values only ever come in. */
const secrets: FastifyPluginAsyncTypebox = async (app) => {
  app.addHook('onRequest', app.requireSession)

  app.get(
    '/accounts/:account_id/secrets',
    {
      schema: {
        tags: ['flowrunner'],
        summary: "List an account's secrets (keys only)",
        params: AccountParams,
        response: { 200: Type.Object({ secrets: Type.Array(SecretSchema) }), ...errors(401, 403, 404) }
      }
    },
    async (request) => ({ secrets: (await app.secrets.list(principalOf(request), request.params.account_id)).map(secretReply) })
  )

  app.post(
    '/accounts/:account_id/secrets',
    {
      schema: {
        tags: ['flowrunner'],
        summary: 'Store a secret',
        params: AccountParams,
        body: CreateBody,
        response: { 201: SecretSchema, ...errors(400, 401, 403, 404, 409), 422: { ...ErrorSchema, description: `The value is shorter than ${SECRET_VALUE_MIN_LENGTH} characters` } }
      }
    },
    async (request, reply) => {
      const info = await app.secrets.create(principalOf(request), request.params.account_id, request.body.key, request.body.value)
      return reply.code(201).send(secretReply(info))
    }
  )

  app.put(
    '/accounts/:account_id/secrets/:key',
    {
      schema: {
        tags: ['flowrunner'],
        summary: "Replace a secret's value",
        description: 'The new value is sealed anew (a fresh nonce), as on create; `updated_at` moves, `created_at` stays. 404 when the key does not exist.',
        params: SecretParams,
        body: UpdateBody,
        response: { 200: SecretSchema, ...errors(400, 401, 403, 404), 422: { ...ErrorSchema, description: `The value is shorter than ${SECRET_VALUE_MIN_LENGTH} characters` } }
      }
    },
    async (request) => secretReply(await app.secrets.update(principalOf(request), request.params.account_id, request.params.key, request.body.value))
  )

  app.delete(
    '/accounts/:account_id/secrets/:key',
    {
      schema: {
        tags: ['flowrunner'],
        summary: 'Delete a secret',
        params: SecretParams,
        response: { 200: MessageSchema, ...errors(401, 403, 404) }
      }
    },
    async (request) => {
      await app.secrets.delete(principalOf(request), request.params.account_id, request.params.key)
      return { message: 'Secret deleted successfully' }
    }
  )
}

export default secrets
