import type { Command } from 'commander'
import { exitCodeOf } from '../cli-error.js'
import { printError } from '../output.js'
import { authedClient, type Authed } from './auth.js'
import { serverUrl } from './server-url.js'
import { FlowSessionFile } from './session-file.js'

/** Options of `evercycle flows` that every subcommand reads. */
export interface FlowsGlobals {
  server?: string
}

export interface FlowsContext {
  server: string
  sessions: FlowSessionFile
  /** A client with the saved login (refreshed when due); closed when the command ends. */
  authed(): Promise<Authed>
}

/**
 * Runs a `flows` subcommand: works out the server and the session file, prints any failure in the CLI's error
 * shape on stderr and sets the exit code the body returns (or the error's).
 */
export async function runFlows(command: Command, body: (ctx: FlowsContext) => Promise<number>): Promise<void> {
  let opened: Authed | undefined
  try {
    const server = serverUrl(command.optsWithGlobals<FlowsGlobals>().server)
    const sessions = FlowSessionFile.inStateDir()
    const ctx: FlowsContext = {
      server,
      sessions,
      authed: async () => (opened ??= await authedClient(server, sessions))
    }
    process.exitCode = await body(ctx)
  } catch (err) {
    printError(err)
    process.exitCode = exitCodeOf(err)
  } finally {
    await opened?.client.close().catch(() => undefined)
  }
}
