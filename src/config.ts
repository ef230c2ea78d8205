import { availableParallelism } from 'node:os'
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
  // the upstream budget (issue 22): the rate is opt-in; the breaker is on by default
  UPSTREAM_RATE_LIMIT: Type.Optional(Type.Number({ minimum: 1, maximum: 1_000_000 })),
  UPSTREAM_RATE_BURST: Type.Optional(Type.Number({ minimum: 1, maximum: 1_000_000 })),
  UPSTREAM_MAX_CONCURRENCY: Type.Optional(Type.Integer({ minimum: 1, maximum: 65535 })),
  UPSTREAM_QUEUE_TIMEOUT_MS: Type.Integer({ default: 5000, minimum: 0, maximum: 600000 }),
  UPSTREAM_BREAKER_FAILURES: Type.Integer({ default: 5, minimum: 1, maximum: 10000 }),
  UPSTREAM_BREAKER_WINDOW_MS: Type.Integer({ default: 30000, minimum: 100, maximum: 3600000 }),
  UPSTREAM_BREAKER_COOLDOWN_MS: Type.Integer({ default: 10000, minimum: 100, maximum: 3600000 }),
  UPSTREAM_CACHE_MAX_ENTRIES: Type.Integer({ default: 1000, minimum: 1, maximum: 10000000 }),
  UPSTREAM_CACHE_MAX_BYTES: Type.Integer({ default: 67108864, minimum: 1024, maximum: 17179869184 }),
  TOKEN_REFRESH_SKEW_SECONDS: Type.Integer({ default: 60, minimum: 0, maximum: 3600 }),
  SIGNIN_BACKOFF_MS: Type.Integer({ default: 5000, minimum: 0, maximum: 3600000 }),
  GATEWAY_AUTH: Type.Union([Type.Literal('session'), Type.Literal('none')], { default: 'session' }),
  CORS_ORIGINS: Type.String({
    default: 'http://localhost:3000,http://127.0.0.1:3000,https://ui.veraetime.net,https://*.ngrok.io,https://*.ngrok-free.app'
  }),
  BODY_LIMIT_BYTES: Type.Integer({ default: 1048576, minimum: 1024, maximum: 104857600 }),
  SERVER_NAME: Type.String({ default: 'Evercycle API Server', minLength: 1 }),
  TRUST_PROXY: Type.Optional(Type.String({ minLength: 1 })),

  // client authentication and hardening
  SESSION_SECRET: Type.Optional(Type.String({ minLength: 32 })),
  SESSION_TTL: Type.Integer({ default: 28800, minimum: 60, maximum: 2592000 }),
  COOKIE_SECURE: Type.Optional(Type.Boolean()),
  COOKIE_SAMESITE: Type.Union([Type.Literal('lax'), Type.Literal('strict'), Type.Literal('none')], { default: 'lax' }),
  GATEWAY_API_KEYS: Type.Optional(Type.String()),
  AUTH_RATE_LIMIT: Type.Integer({ default: 10, minimum: 1, maximum: 100000 }),
  AUTH_RATE_WINDOW_MS: Type.Integer({ default: 60000, minimum: 1000, maximum: 86400000 }),

  // FlowRunner storage, accounts and engine
  DATA_DIR: Type.String({ default: './data', minLength: 1 }),
  DATABASE_URL: Type.Optional(Type.String({ pattern: '^postgres(ql)?://' })),
  DATABASE_POOL_SIZE: Type.Integer({ default: 10, minimum: 1, maximum: 200 }),
  FLOWRUNNER_ADMIN_EMAIL: Type.Optional(Type.String({ minLength: 3 })),
  FLOWRUNNER_ADMIN_PASSWORD: Type.Optional(Type.String({ minLength: 8 })),
  FLOWRUNNER_JWT_SECRET: Type.Optional(Type.String({ minLength: 32 })),
  FLOWRUNNER_JWT_TTL: Type.Integer({ default: 3600, minimum: 60, maximum: 2592000 }),
  FLOWRUNNER_SECRETS_KEY: Type.Optional(Type.String({ minLength: 32 })),
  FLOWRUNNER_LOGIN_RATE_LIMIT: Type.Integer({ default: 10, minimum: 1, maximum: 100000 }),
  FLOWRUNNER_CONCURRENCY: Type.Integer({ default: 10, minimum: 1, maximum: 1000 }),
  FLOWRUNNER_EXECUTION_TIMEOUT: Type.Integer({ default: 3600000, minimum: 1000, maximum: 604800000 }),
  FLOWRUNNER_STEP_LIMIT: Type.Integer({ default: 1000, minimum: 1, maximum: 1000000 }),
  FLOWRUNNER_RETENTION_DAYS: Type.Integer({ default: 30, minimum: 1, maximum: 3650 }),
  FLOWRUNNER_MAX_RESPONSE_BYTES: Type.Integer({ default: 10485760, minimum: 1024, maximum: 1073741824 }),
  FLOWRUNNER_ALLOW_HOSTS: Type.Optional(Type.String()),
  FLOWRUNNER_NODE_TIMEOUT: Type.Integer({ default: 15000, minimum: 100, maximum: 3600000 }),
  FLOWRUNNER_POLL_MS: Type.Integer({ default: 1000, minimum: 50, maximum: 60000 }),
  FLOWRUNNER_QUEUE_SCHEMA: Type.String({ default: 'pgboss', pattern: '^[a-z_][a-z0-9_]{0,62}$' }),
  FLOWRUNNER_WORKER: Type.Boolean({ default: true }),
  FLOWRUNNER_HOOK_RATE_LIMIT: Type.Integer({ default: 100, minimum: 1, maximum: 100000 }),
  // isolation: what one flow may use (issue 19)
  FLOWRUNNER_ACCOUNT_CONCURRENCY: Type.Optional(Type.Integer({ minimum: 1, maximum: 1000 })),
  FLOWRUNNER_EXPRESSION_TIMEOUT: Type.Integer({ default: 1000, minimum: 10, maximum: 60000 }),
  FLOWRUNNER_NODE_EXPRESSION_BUDGET: Type.Integer({ default: 2000, minimum: 10, maximum: 600000 }),
  FLOWRUNNER_EXPRESSION_THREADS: Type.Optional(Type.Integer({ minimum: 1, maximum: 64 })),
  FLOWRUNNER_EXPRESSION_HEAP_MB: Type.Integer({ default: 128, minimum: 16, maximum: 4096 }),
  FLOWRUNNER_MAX_RESULT_BYTES: Type.Integer({ default: 1048576, minimum: 1024, maximum: 104857600 }),
  FLOWRUNNER_MAX_INPUT_BYTES: Type.Integer({ default: 1048576, minimum: 1024, maximum: 104857600 }),
  FLOWRUNNER_MAX_DEPTH: Type.Integer({ default: 256, minimum: 8, maximum: 4096 }),
  FLOWRUNNER_MAX_LOG_DATA_BYTES: Type.Integer({ default: 65536, minimum: 1024, maximum: 10485760 }),
  FLOWRUNNER_MAX_ERROR_CHARS: Type.Integer({ default: 4096, minimum: 256, maximum: 1048576 }),
  FLOWRUNNER_EVERCYCLE_OPERATIONS: Type.Optional(Type.String()),

  // operations: metrics and load shedding (0 turns a pressure limit off)
  METRICS_TOKEN: Type.Optional(Type.String({ minLength: 16 })),
  METRICS_PORT: Type.Optional(Type.Integer({ minimum: 0, maximum: 65535 })),
  METRICS_HOST: Type.Optional(Type.String({ minLength: 1 })),
  // default 1000 in production, off otherwise: a loaded dev or CI machine stalls event loops for reasons (other
  // processes, PGlite on the main thread) that are not this replica's overload
  MAX_EVENT_LOOP_DELAY_MS: Type.Optional(Type.Integer({ minimum: 0, maximum: 600000 })),
  MAX_EVENT_LOOP_UTILIZATION: Type.Number({ default: 0, minimum: 0, maximum: 1 }),
  MAX_HEAP_USED_BYTES: Type.Integer({ default: 0, minimum: 0 }),
  MAX_RSS_BYTES: Type.Integer({ default: 0, minimum: 0 }),
  PRESSURE_SAMPLE_INTERVAL_MS: Type.Integer({ default: 1000, minimum: 10, maximum: 60000 }),
  PRESSURE_RETRY_AFTER_SECONDS: Type.Integer({ default: 10, minimum: 1, maximum: 3600 })
})

export type Env = Static<typeof EnvSchema>

/**
 * The settings as the code uses them: what `load()` returns, so a setting is written down twice only (its
 * variable in `EnvSchema`, its field in `settingsFrom`) and the type follows.
 */
export type Config = ReturnType<typeof settingsFrom>

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

function list(value: string | undefined): string[] {
  return (value ?? '').split(',').map((s) => s.trim()).filter((s) => s.length > 0)
}

function parseTrustProxy(value: string | undefined): boolean | string[] {
  if (value === undefined || value === 'false') return false
  if (value === 'true') return true
  if (/^\d+$/.test(value)) {
    throw new ConfigError('Invalid configuration:\n  TRUST_PROXY must be true, false or a list of addresses/CIDRs, not a hop count')
  }
  return list(value)
}

export function load(env: NodeJS.ProcessEnv = process.env): Config {
  const raw = Value.Default(EnvSchema, Value.Convert(EnvSchema, pickEnv(env)))
  const problems = [...Value.Errors(EnvSchema, raw)].map((e) => {
    const name = e.path.replace(/^\//, '')
    const given = pickEnv(env)[name]
    return `${name}: ${e.message.charAt(0).toLowerCase()}${e.message.slice(1)}${given === undefined ? '' : ` (got ${JSON.stringify(given)})`}`
  })
  if (problems.length > 0) {
    throw new ConfigError(`Invalid configuration:\n  ${[...new Set(problems)].join('\n  ')}`)
  }
  const e = raw as Env
  if ((e.EVERCYCLE_USERNAME === undefined) !== (e.EVERCYCLE_PASSWORD === undefined)) {
    throw new ConfigError('Invalid configuration:\n  EVERCYCLE_USERNAME and EVERCYCLE_PASSWORD must be set together')
  }
  if (e.COOKIE_SAMESITE === 'none' && e.COOKIE_SECURE === false) {
    throw new ConfigError('Invalid configuration:\n  COOKIE_SAMESITE=none requires COOKIE_SECURE=true (browsers drop such cookies otherwise)')
  }
  return settingsFrom(e)
}

/** The validated variables, named and shaped for the code. */
function settingsFrom(e: Env) {
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
      signInBackoffMs: e.SIGNIN_BACKOFF_MS,
      /** What every call to Evercycle passes (src/evercycle/upstream/budget.ts). */
      budget: {
        /** Requests a second, all replicas together (with DATABASE_URL); undefined: no rate limit. */
        rate: e.UPSTREAM_RATE_LIMIT,
        /** At most one second's worth. */
        burst: e.UPSTREAM_RATE_LIMIT === undefined ? undefined : Math.min(e.UPSTREAM_RATE_BURST ?? e.UPSTREAM_RATE_LIMIT, e.UPSTREAM_RATE_LIMIT),
        /** Calls in flight on this replica; default the pool's connections. */
        maxConcurrency: e.UPSTREAM_MAX_CONCURRENCY ?? e.UPSTREAM_CONNECTIONS,
        queueTimeoutMs: e.UPSTREAM_QUEUE_TIMEOUT_MS,
        breaker: { failures: e.UPSTREAM_BREAKER_FAILURES, windowMs: e.UPSTREAM_BREAKER_WINDOW_MS, cooldownMs: e.UPSTREAM_BREAKER_COOLDOWN_MS }
      },
      /** The answers of operations whose definition says `cache`, per replica (LRU). */
      cache: { maxEntries: e.UPSTREAM_CACHE_MAX_ENTRIES, maxBytes: e.UPSTREAM_CACHE_MAX_BYTES }
    },
    gatewayAuth: e.GATEWAY_AUTH,
    corsOrigins: list(e.CORS_ORIGINS),
    bodyLimit: e.BODY_LIMIT_BYTES,
    /** Fastify `trustProxy`: `true`, or a comma list of addresses/CIDRs (never a hop count). */
    trustProxy: parseTrustProxy(e.TRUST_PROXY),
    security: {
      sessionSecret: e.SESSION_SECRET,
      sessionTtlMs: e.SESSION_TTL * 1000,
      cookieSecure: e.COOKIE_SECURE,
      cookieSameSite: e.COOKIE_SAMESITE,
      apiKeys: list(e.GATEWAY_API_KEYS),
      authRateLimit: e.AUTH_RATE_LIMIT,
      authRateWindowMs: e.AUTH_RATE_WINDOW_MS
    },
    flowRunner: {
      dataDir: path.resolve(e.DATA_DIR),
      databaseUrl: e.DATABASE_URL,
      databasePoolSize: e.DATABASE_POOL_SIZE,
      adminEmail: e.FLOWRUNNER_ADMIN_EMAIL,
      adminPassword: e.FLOWRUNNER_ADMIN_PASSWORD,
      jwtSecret: e.FLOWRUNNER_JWT_SECRET,
      jwtTtlSeconds: e.FLOWRUNNER_JWT_TTL,
      secretsKey: e.FLOWRUNNER_SECRETS_KEY,
      loginRateLimit: e.FLOWRUNNER_LOGIN_RATE_LIMIT,
      concurrency: e.FLOWRUNNER_CONCURRENCY,
      executionTimeoutMs: e.FLOWRUNNER_EXECUTION_TIMEOUT,
      stepLimit: e.FLOWRUNNER_STEP_LIMIT,
      retentionDays: e.FLOWRUNNER_RETENTION_DAYS,
      maxResponseBytes: e.FLOWRUNNER_MAX_RESPONSE_BYTES,
      allowHosts: list(e.FLOWRUNNER_ALLOW_HOSTS),
      nodeTimeoutMs: e.FLOWRUNNER_NODE_TIMEOUT,
      pollIntervalMs: e.FLOWRUNNER_POLL_MS,
      queueSchema: e.FLOWRUNNER_QUEUE_SCHEMA,
      /** Whether this process works executions and fires schedules (an API-only replica sets false). */
      worker: e.FLOWRUNNER_WORKER,
      /** Requests a second each inbound webhook takes on one replica (a token bucket). */
      hookRateLimit: e.FLOWRUNNER_HOOK_RATE_LIMIT,
      /** Running executions one account may hold on this replica; default half the slots (at least one). */
      accountConcurrency: e.FLOWRUNNER_ACCOUNT_CONCURRENCY ?? Math.max(1, Math.ceil(e.FLOWRUNNER_CONCURRENCY / 2)),
      /** Flow expressions run in worker threads under these limits. */
      expressions: {
        timeoutMs: e.FLOWRUNNER_EXPRESSION_TIMEOUT,
        nodeBudgetMs: e.FLOWRUNNER_NODE_EXPRESSION_BUDGET,
        /** Worker threads; default: the machine's cores, at least 2 and at most 4. */
        threads: e.FLOWRUNNER_EXPRESSION_THREADS ?? Math.min(4, Math.max(2, availableParallelism())),
        heapMb: e.FLOWRUNNER_EXPRESSION_HEAP_MB
      },
      /** Sizes an execution may write: past them a node fails (result_too_large/deep) or `/run` answers 4xx. */
      limits: {
        maxResultBytes: e.FLOWRUNNER_MAX_RESULT_BYTES,
        maxInputBytes: e.FLOWRUNNER_MAX_INPUT_BYTES,
        maxDepth: e.FLOWRUNNER_MAX_DEPTH,
        maxLogDataBytes: e.FLOWRUNNER_MAX_LOG_DATA_BYTES,
        maxErrorChars: e.FLOWRUNNER_MAX_ERROR_CHARS
      },
      /**
       * Evercycle operations a `user` account's flows may call as the service identity (admins: all). Unset:
       * every GET operation; `*`: all.
       */
      evercycleOperations: e.FLOWRUNNER_EVERCYCLE_OPERATIONS === undefined ? undefined : list(e.FLOWRUNNER_EVERCYCLE_OPERATIONS)
    },
    metrics: {
      /** Bearer token `GET /metrics` requires; without it (and without a port) metrics are not served. */
      token: e.METRICS_TOKEN,
      /** A separate listener for `/metrics` only (0: any free port); the main port then never serves them. */
      port: e.METRICS_PORT,
      host: e.METRICS_HOST ?? e.HOST
    },
    /** @fastify/under-pressure limits; 0 turns a limit off. */
    loadShedding: {
      maxEventLoopDelayMs: e.MAX_EVENT_LOOP_DELAY_MS ?? (e.NODE_ENV === 'production' ? 1000 : 0),
      maxEventLoopUtilization: e.MAX_EVENT_LOOP_UTILIZATION,
      maxHeapUsedBytes: e.MAX_HEAP_USED_BYTES,
      maxRssBytes: e.MAX_RSS_BYTES,
      sampleIntervalMs: e.PRESSURE_SAMPLE_INTERVAL_MS,
      retryAfterSeconds: e.PRESSURE_RETRY_AFTER_SECONDS
    }
  }
}
