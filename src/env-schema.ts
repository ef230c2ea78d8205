import { Type, type Static } from '@sinclair/typebox'

/**
 * Every setting the process reads, as environment variables. One schema validates them at boot so a typo
 * stops the process with a message naming the variable instead of surfacing later as odd behaviour.
 * `secret: true`: the value is never quoted back in an error; `requiredInProduction: true`: NODE_ENV=production
 * refuses to boot without it (outside production the server generates one and keeps it in DATA_DIR).
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
  EVERCYCLE_PASSWORD: Type.Optional(Type.String({ minLength: 1, secret: true })),
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
  SESSION_SECRET: Type.Optional(Type.String({ minLength: 32, secret: true, requiredInProduction: true })),
  SESSION_TTL: Type.Integer({ default: 28800, minimum: 60, maximum: 2592000 }),
  COOKIE_SECURE: Type.Optional(Type.Boolean()),
  COOKIE_SAMESITE: Type.Union([Type.Literal('lax'), Type.Literal('strict'), Type.Literal('none')], { default: 'lax' }),
  GATEWAY_API_KEYS: Type.Optional(Type.String({ secret: true })),
  AUTH_RATE_LIMIT: Type.Integer({ default: 10, minimum: 1, maximum: 100000 }),
  AUTH_RATE_WINDOW_MS: Type.Integer({ default: 60000, minimum: 1000, maximum: 86400000 }),

  // FlowRunner storage, accounts and engine
  DATA_DIR: Type.String({ default: './data', minLength: 1 }),
  // its password is a secret
  DATABASE_URL: Type.Optional(Type.String({ pattern: '^postgres(ql)?://', secret: true })),
  DATABASE_POOL_SIZE: Type.Integer({ default: 10, minimum: 1, maximum: 200 }),
  FLOWRUNNER_ADMIN_EMAIL: Type.Optional(Type.String({ minLength: 3 })),
  FLOWRUNNER_ADMIN_PASSWORD: Type.Optional(Type.String({ minLength: 8, secret: true })),
  FLOWRUNNER_JWT_SECRET: Type.Optional(Type.String({ minLength: 32, secret: true, requiredInProduction: true })),
  FLOWRUNNER_JWT_TTL: Type.Integer({ default: 3600, minimum: 60, maximum: 2592000 }),
  FLOWRUNNER_SECRETS_KEY: Type.Optional(Type.String({ minLength: 32, secret: true, requiredInProduction: true })),
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
  METRICS_TOKEN: Type.Optional(Type.String({ minLength: 16, secret: true })),
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

/** The settings' names, and those whose schema carries `flag` (secret, requiredInProduction). */
export function settingNames(flag?: 'secret' | 'requiredInProduction'): string[] {
  return Object.entries(EnvSchema.properties)
    .filter(([, schema]) => flag === undefined || (schema as Record<string, unknown>)[flag] === true)
    .map(([name]) => name)
}
