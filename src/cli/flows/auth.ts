import { CliError } from '../cli-error.js'
import { FlowRunnerClient } from './api-client.js'
import type { FlowSession, FlowSessionFile } from './session-file.js'
import type { TokenReply } from './types.js'

export function sessionFrom(reply: TokenReply, email: string, now = Date.now()): FlowSession {
  return { token: reply.token, expiresAt: Date.parse(reply.expires_at), obtainedAt: now, accountId: reply.account_id, email }
}

function loginHint(server: string): string {
  return `Log in again: evercycle flows login --server ${server}`
}

/** Whether a token is past half its life: then it is exchanged for a new one before it is used. */
export function dueForRefresh(session: FlowSession, now = Date.now()): boolean {
  return now >= session.obtainedAt + (session.expiresAt - session.obtainedAt) / 2
}

export interface Authed {
  client: FlowRunnerClient
  session: FlowSession
}

/**
 * A client holding the saved login for `server`. A token past half its life is refreshed first
 * (POST /api/v1/auth/refresh, which revokes the old one) and the new one saved; an expired token cannot be
 * refreshed (the server only exchanges a valid one), so that asks for a new login.
 */
export async function authedClient(server: string, sessions: FlowSessionFile, now = Date.now()): Promise<Authed> {
  let session = await sessions.get(server)
  if (session === undefined) {
    throw new CliError('unauthorized', `Not logged in to FlowRunner at ${server}: run \`evercycle flows login --server ${server}\``, null, 401)
  }
  if (session.expiresAt <= now) {
    await sessions.delete(server)
    throw new CliError(
      'unauthorized',
      `Your FlowRunner login for ${server} expired at ${new Date(session.expiresAt).toISOString()} and an expired token cannot be refreshed. ${loginHint(server)}`,
      null,
      401
    )
  }
  const client = new FlowRunnerClient(server, session.token)
  client.unauthorizedHint = loginHint(server)
  if (dueForRefresh(session, now)) {
    try {
      const reply = await client.call<TokenReply>('POST', '/api/v1/auth/refresh')
      session = sessionFrom(reply, session.email, now)
      client.token = session.token
      await sessions.set(server, session)
    } catch (err) {
      await client.close()
      if (err instanceof CliError && err.statusCode === 401) await sessions.delete(server)
      throw err
    }
  }
  return { client, session }
}
