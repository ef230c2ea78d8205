import path from 'node:path'
import { Type, type Static } from '@sinclair/typebox'
import { Value } from '@sinclair/typebox/value'

/**
 * Every setting the process reads, as environment variables. One schema validates them at boot so a typo
 * stops the process with a message naming the variable instead of surfacing later as odd behaviour.
 */
export const EnvSchema = Type.Object({
  NODE_ENV: Type.Union([Type.Literal('development'), Type.Literal('production'), Type.Literal('test')], {
    default: 'development'
  }),
  HOST: Type.String({ default: '127.0.0.1', minLength: 1 }),
  PORT: Type.Integer({ default: 5000, minimum: 0, maximum: 65535 }),
  LOG_LEVEL: Type.Union(
    ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'].map((l) => Type.Literal(l)),
    { default: 'info' }
  ),
  EVERCYCLE_BASE_URL: Type.String({ default: 'https://api.evercycle.io', pattern: '^https?://[^\\s]+$' }),
  EVERCYCLE_USERNAME: Type.Optional(Type.String({ minLength: 1 })),
  EVERCYCLE_PASSWORD: Type.Optional(Type.String({ minLength: 1 })),
  EVERCYCLE_CONFIG_DIR: Type.String({ default: './config', minLength: 1 }),
  TOKEN_FILE: Type.Optional(Type.String({ minLength: 1 })),
  UPSTREAM_TIMEOUT_MS: Type.Integer({ default: 15000, minimum: 1, maximum: 600000 }),
  UPSTREAM_CONNECTIONS: Type.Integer({ default: 512, minimum: 1, maximum: 65535 }),
  TOKEN_REFRESH_SKEW_SECONDS: Type.Integer({ default: 60, minimum: 0, maximum: 3600 }),
  SIGNIN_BACKOFF_MS: Type.Integer({ default: 5000, minimum: 0, maximum: 3600000 }),
  GATEWAY_AUTH: Type.Union([Type.Literal('none')], { default: 'none' }),
  CORS_ORIGINS: Type.String({
    default: 'http://localhost:3000,http://127.0.0.1:3000,https://ui.veraetime.net,https://*.ngrok.io,https://*.ngrok-free.app'
  }),
  BODY_LIMIT_BYTES: Type.Integer({ default: 1048576, minimum: 1024, maximum: 104857600 }),
  SERVER_NAME: Type.String({ default: 'Evercycle API Server', minLength: 1 })
})

export type Env = Static<typeof EnvSchema>

export interface Config {
  nodeEnv: Env['NODE_ENV']
  host: string
  port: number
  logLevel: string
  serverName: string
  evercycle: {
    baseUrl: string
    username: string | undefined
    password: string | undefined
    configDir: string
    tokenFile: string
    timeoutMs: number
    connections: number
    refreshSkewMs: number
    signInBackoffMs: number
  }
  gatewayAuth: Env['GATEWAY_AUTH']
  corsOrigins: string[]
  bodyLimit: number
}

export class ConfigError extends Error {
  override name = 'ConfigError'
}

/** Only the variables the schema knows, with empty strings treated as unset. */
function pickEnv(env: NodeJS.ProcessEnv): Record<string, string> {
  const picked: Record<string, string> = {}
  for (const key of Object.keys(EnvSchema.properties)) {
    const value = env[key]
    if (value !== undefined && value !== '') picked[key] = value
  }
  return picked
}

export function load(env: NodeJS.ProcessEnv = process.env): Config {
  const raw = Value.Default(EnvSchema, Value.Convert(EnvSchema, pickEnv(env)))
  const problems = [...Value.Errors(EnvSchema, raw)].map((e) => {
    const name = e.path.replace(/^\//, '')
    const given = pickEnv(env)[name]
    return `${name} ${e.message}${given === undefined ? '' : ` (got ${JSON.stringify(given)})`}`
  })
  if (problems.length > 0) {
    throw new ConfigError(`Invalid configuration:\n  ${[...new Set(problems)].join('\n  ')}`)
  }
  const e = raw as Env
  if ((e.EVERCYCLE_USERNAME === undefined) !== (e.EVERCYCLE_PASSWORD === undefined)) {
    throw new ConfigError('Invalid configuration:\n  EVERCYCLE_USERNAME and EVERCYCLE_PASSWORD must be set together')
  }
  const baseUrl = new URL(e.EVERCYCLE_BASE_URL)
  const configDir = path.resolve(e.EVERCYCLE_CONFIG_DIR)
  return {
    nodeEnv: e.NODE_ENV,
    host: e.HOST,
    port: e.PORT,
    logLevel: e.LOG_LEVEL,
    serverName: e.SERVER_NAME,
    evercycle: {
      baseUrl: baseUrl.href.replace(/\/$/, ''),
      username: e.EVERCYCLE_USERNAME,
      password: e.EVERCYCLE_PASSWORD,
      configDir,
      tokenFile: path.resolve(e.TOKEN_FILE ?? path.join(configDir, '..', 'auth.properties')),
      timeoutMs: e.UPSTREAM_TIMEOUT_MS,
      connections: e.UPSTREAM_CONNECTIONS,
      refreshSkewMs: e.TOKEN_REFRESH_SKEW_SECONDS * 1000,
      signInBackoffMs: e.SIGNIN_BACKOFF_MS
    },
    gatewayAuth: e.GATEWAY_AUTH,
    corsOrigins: e.CORS_ORIGINS.split(',').map((s) => s.trim()).filter((s) => s.length > 0),
    bodyLimit: e.BODY_LIMIT_BYTES
  }
}
