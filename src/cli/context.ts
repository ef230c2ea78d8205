import path from 'node:path'
import type { Command } from 'commander'
import { load, type Config } from '../config.js'
import type { Backend } from './backend.js'
import { exitCodeOf } from './cli-error.js'
import { DirectBackend } from './direct-backend.js'
import { GatewayBackend } from './gateway-backend.js'
import { GatewaySessionFile } from './gateway-session.js'
import { DEFAULT_HISTORY_MAX_BYTES, HistoryFile } from './history.js'
import { cliLogger } from './logger.js'
import { printError } from './output.js'
import { ensureStateDir, stateDir } from './state-dir.js'

/** Files the CLI keeps in the per-user state directory (never beside the token file or in the working directory). */
export const HISTORY_FILE_NAME = 'history.jsonl'
export const GATEWAY_SESSIONS_FILE_NAME = 'gateway-sessions'

/** Options every command accepts (declared on the program, read with `optsWithGlobals`). */
export interface GlobalOptions {
  gateway?: string
  apiKey?: string
  history?: boolean
  verbose?: boolean
}

/**
 * What a command runs with: the server's configuration (same variables, same `load()`), the backend chosen by
 * `--gateway`, and the history file. Secrets seen this run are collected so the history can redact them.
 */
export class CliContext {
  readonly config: Config
  readonly history: HistoryFile | undefined
  readonly gatewayUrl: string | undefined
  private readonly apiKey: string | undefined
  private readonly secrets: string[] = []
  private opened: Backend | undefined

  constructor(
    readonly globals: GlobalOptions,
    readonly env: NodeJS.ProcessEnv = process.env
  ) {
    this.config = load(env)
    this.gatewayUrl = globals.gateway ?? nonEmpty(env.EVERCYCLE_GATEWAY_URL)
    this.apiKey = globals.apiKey ?? nonEmpty(env.EVERCYCLE_GATEWAY_API_KEY)
    for (const secret of [this.apiKey, this.config.evercycle.password]) if (secret !== undefined) this.secrets.push(secret)
    const configured = nonEmpty(env.EVERCYCLE_HISTORY_FILE)
    const maxBytes = Number(env.EVERCYCLE_HISTORY_MAX_BYTES ?? DEFAULT_HISTORY_MAX_BYTES)
    this.history =
      globals.history === false
        ? undefined
        : new HistoryFile(
            path.resolve(configured ?? path.join(stateDir(env), HISTORY_FILE_NAME)),
            Number.isFinite(maxBytes) && maxBytes > 0 ? maxBytes : DEFAULT_HISTORY_MAX_BYTES,
            () => this.secrets,
            // a configured file's directory is the user's to set up; the state directory is made 0700
            configured === undefined ? () => ensureStateDir(env) : undefined
          )
  }

  get backend(): Backend {
    this.opened ??=
      this.gatewayUrl === undefined
        ? new DirectBackend(this.config, cliLogger(this.globals.verbose === true))
        : new GatewayBackend(this.config, {
            url: this.gatewayUrl,
            apiKey: this.apiKey,
            sessions: new GatewaySessionFile(path.join(stateDir(this.env), GATEWAY_SESSIONS_FILE_NAME), () => ensureStateDir(this.env))
          })
    return this.opened
  }

  /** Where calls go, for messages and the history's `via`. */
  get via(): string {
    return this.gatewayUrl === undefined ? 'evercycle' : this.backend.target
  }

  rememberSecret(value: string): void {
    this.secrets.push(value)
  }

  async close(): Promise<void> {
    await this.opened?.close()
  }
}

function nonEmpty(value: string | undefined): string | undefined {
  return value === undefined || value === '' ? undefined : value
}

/**
 * Runs a command's body with a context, prints any failure in the gateway's error shape on stderr and sets
 * the exit code. The body returns its own exit code (0 when all went well).
 */
export async function runCommand(command: Command, body: (ctx: CliContext) => Promise<number>): Promise<void> {
  let ctx: CliContext | undefined
  try {
    ctx = new CliContext(command.optsWithGlobals<GlobalOptions>())
    process.exitCode = await body(ctx)
  } catch (err) {
    printError(err)
    process.exitCode = exitCodeOf(err)
  } finally {
    await ctx?.close().catch(() => undefined)
  }
}
