import fp from 'fastify-plugin'
import { isExecutionEvent } from '../src/cluster/cluster-message.js'
import type { FlowSpec } from '../src/flows/definition-schema.js'
import { Engine } from '../src/flows/engine/engine.js'
import { ExecutionEvents } from '../src/flows/engine/events.js'
import { STEP_QUEUE } from '../src/flows/engine/step-jobs.js'
import { evercyclePolicy, OwnerRoles } from '../src/flows/evercycle-policy.js'
import { nodeTypes } from '../src/flows/nodes/index.js'
import { evercycleAdapter } from '../src/flows/runtime/evercycle-adapter.js'
import { ExpressionPool } from '../src/flows/runtime/expression-pool.js'
import { guardedAgent } from '../src/flows/runtime/guarded-agent.js'
import { NetworkPolicy } from '../src/flows/runtime/network-policy.js'
import { registerFlowRunnerMetrics } from '../src/metrics/flowrunner-metrics.js'
import { JobQueue } from '../src/queue/job-queue.js'
import { AccountsRepository } from '../src/store/accounts-repository.js'
import { ExecutionsRepository } from '../src/store/executions-repository.js'
import { FlowsRepository } from '../src/store/flows-repository.js'

declare module 'fastify' {
  interface FastifyInstance {
    engine: Engine
    executionEvents: ExecutionEvents
  }
}

/**
 * The FlowRunner engine: pg-boss queue on the store's database, the guarded HTTP agent for flow nodes, the
 * gateway's own Evercycle caller for `evercycle` nodes, and the event fan-out, relayed to and from the other
 * replicas through the cluster bus when there is one.
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
    const bus = app.clusterBus
    const events = new ExecutionEvents({ relay: bus === undefined ? undefined : (event) => bus.publish(event) })
    const http = guardedAgent(new NetworkPolicy(fr.allowHosts), { connectTimeoutMs: 10_000 })
    const flows = new FlowsRepository(app.db)
    const accounts = new AccountsRepository(app.db)
    const policy = evercyclePolicy(fr.evercycleOperations)
    const ownerRoles = new OwnerRoles(async (flowId) => {
      const flow = await flows.get(flowId, null)
      return flow === undefined ? undefined : (await accounts.findById(flow.accountId))?.role
    })
    const expressions = new ExpressionPool({
      ...fr.expressions,
      maxBytes: fr.limits.maxResultBytes,
      maxDepth: fr.limits.maxDepth,
      onError: (err) => app.log.error({ err }, 'flowrunner: an expression thread failed')
    })
    const engine = new Engine({
      db: app.db,
      executions: new ExecutionsRepository(app.db),
      queue,
      events,
      expressions,
      http,
      nodeTypes,
      loadSpec: async (flowId, revision) => (await flows.getRevision(flowId, revision))?.spec as FlowSpec | undefined,
      resolveFlow: async (flowId, accountId) => {
        const flow = await flows.get(flowId, accountId)
        return flow === undefined ? undefined : { id: flow.id, revision: flow.revision }
      },
      openSecrets: (accountId, sealed) => app.secrets.open(accountId, sealed),
      evercycle: evercycleAdapter({
        operation: (name) => app.registry.get(name),
        call: (op, input, signal) => app.operations.call(op, input, { signal, lane: 'flow' }),
        maxResponseBytes: fr.maxResponseBytes,
        mayCall: async (op, flowId) => {
          const role = await ownerRoles.get(flowId)
          return role !== undefined && policy(role, op)
        }
      }),
      log: app.log.child({ plugin: 'flow-engine' }),
      settings: {
        concurrency: fr.concurrency,
        accountConcurrency: fr.accountConcurrency,
        executionTimeoutMs: fr.executionTimeoutMs,
        stepLimit: fr.stepLimit,
        retentionDays: fr.retentionDays,
        maxResponseBytes: fr.maxResponseBytes,
        defaultNodeTimeoutMs: fr.nodeTimeoutMs,
        pollIntervalMs: fr.pollIntervalMs,
        limits: fr.limits
      }
    })
    // another replica's events reach this one's subscribers, and its cancels the node running here
    const unsubscribe = bus?.subscribe((message) => {
      if (!isExecutionEvent(message)) return
      if (message.type === 'execution_cancelled') engine.abortLocal(message.execution_id)
      events.deliver(message)
    })
    registerFlowRunnerMetrics(app.metrics.registry, {
      engine,
      subscriberCount: () => events.subscriberCount(),
      db: app.db,
      queueSchema: fr.queueSchema,
      queueName: STEP_QUEUE,
      log: app.log.child({ plugin: 'metrics' })
    })
    app.decorate('engine', engine)
    app.decorate('executionEvents', events)
    if (fr.worker) app.addHook('onReady', async () => engine.start())
    app.addHook('onClose', async () => {
      unsubscribe?.()
      await engine.stop()
      await queue.stop()
      await http.close()
      await expressions.close()
    })
  },
  { name: 'flow-engine', dependencies: ['app-config', 'db', 'metrics', 'cluster-events', 'flow-secrets', 'endpoint-registry', 'operation-caller'] }
)
