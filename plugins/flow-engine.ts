import fp from 'fastify-plugin'
import { isDomainError } from '../src/errors.js'
import type { FlowSpec } from '../src/flows/definition-schema.js'
import { Engine } from '../src/flows/engine/engine.js'
import { ExecutionEvents } from '../src/flows/engine/events.js'
import { guardedAgent } from '../src/flows/runtime/guarded-agent.js'
import { HttpCallError, readBody } from '../src/flows/runtime/http-call.js'
import { NetworkPolicy } from '../src/flows/runtime/network-policy.js'
import { NodeFailure } from '../src/flows/runtime/node-runtime.js'
import { JobQueue } from '../src/queue/job-queue.js'
import { FlowsRepository } from '../src/store/flows-repository.js'

declare module 'fastify' {
  interface FastifyInstance {
    engine: Engine
    executionEvents: ExecutionEvents
  }
}

/**
 * The FlowRunner engine: pg-boss queue on the store's database, the guarded HTTP agent for flow nodes, the
 * gateway's own Evercycle caller for `evercycle` nodes, and the in-process event fan-out.
 */
export default fp(
  async (app) => {
    const fr = app.config.flowRunner
    const queue = await JobQueue.open(app.db, {
      schema: fr.queueSchema,
      maintenanceIntervalSeconds: 5,
      databaseUrl: fr.databaseUrl,
      poolSize: 4,
      onError: (err) => app.log.warn({ err }, 'flowrunner queue error')
    })
    const events = new ExecutionEvents()
    const http = guardedAgent(new NetworkPolicy(fr.allowHosts), { connectTimeoutMs: 10_000 })
    const flows = new FlowsRepository(app.db)
    const engine = new Engine({
      db: app.db,
      queue,
      events,
      http,
      loadSpec: async (flowId, revision) => (await flows.getRevision(flowId, revision))?.spec as FlowSpec | undefined,
      openSecrets: (accountId, sealed) => app.secrets.open(accountId, sealed),
      evercycle: async (operation, input, signal) => {
        const op = app.registry.get(operation)
        if (op === undefined) throw new NodeFailure(`Unknown Evercycle operation ${operation}`, false)
        const query: Record<string, unknown> = { ...input.query }
        const body: Record<string, unknown> = { ...input.body }
        for (const [name, param] of Object.entries(op.pathParams)) {
          const value = input.params?.[name]
          if (value !== undefined) (param.from === 'query' ? query : body)[name] = value
        }
        try {
          const res = await app.operations.call(op, { query, body }, { signal })
          // the same cap as any other endpoint a flow reads, enforced while reading
          const text = (await readBody(res.body, fr.maxResponseBytes)).toString('utf8')
          let parsed: unknown = text
          try {
            parsed = text === '' ? null : JSON.parse(text)
          } catch {
            // keep the text
          }
          return { status_code: res.statusCode, body: parsed }
        } catch (err) {
          if (err instanceof NodeFailure) throw err
          if (err instanceof HttpCallError) throw new NodeFailure(err.message, err.retryable)
          if (isDomainError(err)) {
            const retryable = err.code === 'upstream_unavailable' || err.code === 'upstream_timeout'
            throw new NodeFailure(`Evercycle operation ${operation}: ${err.message}`, retryable)
          }
          throw err
        }
      },
      log: app.log.child({ plugin: 'flow-engine' }),
      settings: {
        concurrency: fr.concurrency,
        executionTimeoutMs: fr.executionTimeoutMs,
        stepLimit: fr.stepLimit,
        retentionDays: fr.retentionDays,
        maxResponseBytes: fr.maxResponseBytes,
        defaultNodeTimeoutMs: fr.nodeTimeoutMs,
        pollIntervalMs: fr.pollIntervalMs
      }
    })
    app.decorate('engine', engine)
    app.decorate('executionEvents', events)
    if (fr.worker) app.addHook('onReady', async () => engine.start())
    app.addHook('onClose', async () => {
      await engine.stop()
      await queue.stop()
      await http.close()
    })
  },
  { name: 'flow-engine', dependencies: ['app-config', 'db', 'flow-secrets', 'endpoint-registry', 'operation-caller'] }
)
