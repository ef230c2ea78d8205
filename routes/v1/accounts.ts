import { Type } from '@sinclair/typebox'
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { principalOf, sessionOf } from '../../plugins/flow-auth.js'
import { PASSWORD_MAX_LENGTH, PASSWORD_MIN_LENGTH } from '../../src/accounts/password.js'
import { AccountSchema, accountReply, errors, IdParams, MessageSchema, page, PageQuery, RoleSchema } from './schemas.js'

const Name = Type.String({ minLength: 1, maxLength: 200 })
const Email = Type.String({ minLength: 3, maxLength: 320, pattern: '^[^\\s@]+@[^\\s@]+$', description: 'Also the login username; unique, case-insensitively' })
const Password = Type.String({ minLength: PASSWORD_MIN_LENGTH, maxLength: PASSWORD_MAX_LENGTH })

const CreateBody = Type.Object(
  { name: Name, email: Email, password: Password, role: Type.Optional(RoleSchema) },
  { additionalProperties: false }
)

const UpdateBody = Type.Object(
  {
    name: Type.Optional(Name),
    email: Type.Optional(Email),
    role: Type.Optional(RoleSchema),
    password: Type.Optional(Password),
    current_password: Type.Optional(
      Type.String({
        minLength: 1,
        maxLength: 1024,
        description: 'The account\'s current password: required to change your own password or email (not for an admin changing another account)'
      })
    )
  },
  { additionalProperties: false, minProperties: 1 }
)

const ListQuery = Type.Object({ role: Type.Optional(RoleSchema), ...PageQuery }, { additionalProperties: false })

const ListReply = Type.Object({
  accounts: Type.Array(AccountSchema),
  total: Type.Integer(),
  limit: Type.Integer(),
  offset: Type.Integer()
})

/** Account management: admins manage all accounts; a user reads and edits its own (not its role). */
const accounts: FastifyPluginAsyncTypebox = async (app) => {
  app.addHook('onRequest', app.requireSession)

  app.get(
    '/accounts',
    {
      schema: {
        tags: ['flowrunner'],
        summary: 'List accounts (admins)',
        querystring: ListQuery,
        response: { 200: ListReply, ...errors(400, 401, 403) }
      }
    },
    async (request) => {
      const p = page(request.query)
      const found = await app.accounts.list(principalOf(request), { role: request.query.role, ...p })
      return { accounts: found.accounts.map(accountReply), total: found.total, ...p }
    }
  )

  app.get(
    '/accounts/:id',
    {
      schema: {
        tags: ['flowrunner'],
        summary: 'Get an account (admins, or the account itself)',
        params: IdParams,
        response: { 200: AccountSchema, ...errors(401, 403, 404) }
      }
    },
    async (request) => accountReply(await app.accounts.get(principalOf(request), request.params.id))
  )

  app.post(
    '/accounts',
    {
      schema: {
        tags: ['flowrunner'],
        summary: 'Create an account (admins)',
        body: CreateBody,
        response: { 201: AccountSchema, ...errors(400, 401, 403, 409) }
      }
    },
    async (request, reply) => {
      const account = await app.accounts.create(principalOf(request), request.body)
      return reply.code(201).send(accountReply(account))
    }
  )

  app.put(
    '/accounts/:id',
    {
      schema: {
        tags: ['flowrunner'],
        summary: 'Update an account (admins, or the account itself except its role)',
        description: 'Changing your own password or email takes `current_password`; a wrong one counts as a failed login.',
        params: IdParams,
        body: UpdateBody,
        response: { 200: AccountSchema, ...errors(400, 401, 403, 404, 409, 429) }
      }
    },
    async (request) => {
      const { current_password: currentPassword, ...update } = request.body
      const { account } = sessionOf(request)
      const current = { value: currentPassword, confirm: (password: string) => app.sessions.confirmPassword(account, password, request.ip) }
      return accountReply(await app.accounts.update(principalOf(request), request.params.id, update, current))
    }
  )

  app.delete(
    '/accounts/:id',
    {
      schema: {
        tags: ['flowrunner'],
        summary: 'Delete an account with its flows and secrets (admins)',
        params: IdParams,
        response: { 200: MessageSchema, ...errors(401, 403, 404, 409) }
      }
    },
    async (request) => {
      await app.accounts.delete(principalOf(request), request.params.id)
      return { message: 'Account deleted successfully' }
    }
  )
}

export default accounts
