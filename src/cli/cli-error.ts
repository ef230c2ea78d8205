import { CommanderError } from 'commander'
import { ConfigError } from '../config.js'
import { isDomainError } from '../errors.js'
import { gatewayErrorBody, type GatewayErrorBody } from '../http/error-body.js'

/**
 * An error the CLI reports in the gateway's shape. Codes outside the core's set (a gateway's `rate_limited`,
 * the CLI's `usage_error`) travel through here.
 */
export class CliError extends Error {
  override name = 'CliError'
  constructor(
    readonly code: string,
    message: string,
    readonly details: unknown = null,
    readonly statusCode: number | undefined = undefined,
    /** 2 for a command line the CLI could not make sense of, 1 for everything that failed while running. */
    readonly exitCode = 1
  ) {
    super(message)
  }
}

export function usageError(message: string, details: unknown = null): CliError {
  return new CliError('usage_error', message, details, undefined, 2)
}

/** The gateway's error shape, so a script reads the CLI's failures as it reads the gateway's. */
export type ErrorBody = GatewayErrorBody

function body(code: string, message: string, details: unknown): ErrorBody {
  return gatewayErrorBody({ code, message, details: details ?? null })
}

export function errorBody(err: unknown): ErrorBody {
  if (err instanceof CliError) return body(err.code, err.message, err.details)
  if (isDomainError(err)) return body(err.code, err.message, err.details)
  if (err instanceof ConfigError) return body('configuration_error', err.message, null)
  if (err instanceof CommanderError) return body('usage_error', err.message.replace(/^error:\s*/, ''), null)
  // a local failure (file permissions, a full disk): the message is the user's own machine talking
  return body('internal_error', err instanceof Error ? err.message : String(err), null)
}

export function exitCodeOf(err: unknown): number {
  if (err instanceof CliError || err instanceof CommanderError) return err.exitCode === 0 ? 1 : err.exitCode
  return 1
}

/** HTTP status an error stands for (the upstream's, passed through), for the summary and the history. */
export function statusOf(err: unknown): number | undefined {
  if (err instanceof CliError) return err.statusCode
  if (isDomainError(err)) return err.statusCode
  return undefined
}
