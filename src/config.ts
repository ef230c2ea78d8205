import { availableParallelism } from 'node:os'
import path from 'node:path'
import { Value } from '@sinclair/typebox/value'
import { unknownVariables, type UnknownVariable } from './env-names.js'
import { EnvSchema, settingNames, type Env } from './env-schema.js'
import { parseMasterKey } from './secrets/master-key.js'

export { EnvSchema, type Env } from './env-schema.js'

/**
 * The settings as the code uses them: what `load()` returns, so a setting is written down twice only (its
 * variable in `EnvSchema`, its field in `settingsFrom`) and the type follows.
 */
export type Config = ReturnType<typeof settingsFrom> & { diagnostics: Diagnostics }

/** What boot reports about the environment beyond the settings themselves (plugins/app-config.ts). */
export interface Diagnostics {
  /** Variables that look like settings but are none (a typo is otherwise silently ignored). Names only. */
  unknownVariables: UnknownVariable[]
  /** Secrets NODE_ENV=production needs that are not set, every one of them. */
  missingProductionSecrets: string[]
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

const SECRETS = new Set(settingNames('secret'))

function problemText(message: string): string {
  return `${message.charAt(0).toLowerCase()}${message.slice(1)}`
}

/** `message` for each required secret `picked` lacks, when NODE_ENV=production. */
function missingSecrets(picked: Record<string, string>): string[] {
  if (picked.NODE_ENV !== 'production') return []
  return settingNames('requiredInProduction').filter((name) => picked[name] === undefined)
}

export const requiredInProductionMessage = (name: string): string => `${name} is required when NODE_ENV=production`

/**
 * The settings from `env`, or one ConfigError listing every problem at once: values the schema refuses (a
 * secret's value is never quoted back), pairs that must go together, and with NODE_ENV=production every
 * required secret that is missing, so an operator fixes them all in one go rather than one per boot.
 */
export function load(env: NodeJS.ProcessEnv = process.env): Config {
  const picked = pickEnv(env)
  const raw = Value.Default(EnvSchema, Value.Convert(EnvSchema, picked))
  const problems = [...Value.Errors(EnvSchema, raw)].map((e) => {
    const name = e.path.replace(/^\//, '')
    const given = picked[name]
    const shown = given === undefined ? '' : SECRETS.has(name) ? ' (value not shown: it is a secret)' : ` (got ${JSON.stringify(given)})`
    return `${name}: ${problemText(e.message)}${shown}`
  })
  const e = raw as Env
  if ((picked.EVERCYCLE_USERNAME === undefined) !== (picked.EVERCYCLE_PASSWORD === undefined)) {
    problems.push('EVERCYCLE_USERNAME and EVERCYCLE_PASSWORD must be set together')
  }
  if (picked.COOKIE_SAMESITE === 'none' && e.COOKIE_SECURE === false) {
    problems.push('COOKIE_SAMESITE=none requires COOKIE_SECURE=true (browsers drop such cookies otherwise)')
  }
  if (picked.TRUST_PROXY !== undefined && /^\d+$/.test(picked.TRUST_PROXY)) {
    problems.push('TRUST_PROXY must be true, false or a list of addresses/CIDRs, not a hop count')
  }
  if (picked.FLOWRUNNER_SECRETS_KEY !== undefined) {
    try {
      parseMasterKey(picked.FLOWRUNNER_SECRETS_KEY)
    } catch (err) {
      problems.push((err as Error).message)
    }
  }
  const missing = missingSecrets(picked)
  if (problems.length > 0) {
    // failing anyway: name the missing secrets too, so the next boot does not stop on them one by one
    throw new ConfigError(`Invalid configuration:\n  ${[...new Set([...problems, ...missing.map(requiredInProductionMessage)])].join('\n  ')}`)
  }
  return { ...settingsFrom(e), diagnostics: { unknownVariables: unknownVariables(env, settingNames()), missingProductionSecrets: missing } }
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
