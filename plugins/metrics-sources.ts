import fp from 'fastify-plugin'
import { STEP_QUEUE } from '../src/flows/engine/engine.js'
import { registerFlowRunnerMetrics } from '../src/metrics/flowrunner-metrics.js'
import { registerTokenMetrics } from '../src/metrics/token-metrics.js'

/**
 * Connects the metrics to what they count once it all exists: the Evercycle client (upstream calls, sign-ins,
 * refreshes), the token manager (single-flight waiters), the FlowRunner engine, queue and WebSocket fan-out.
 * Sources are read at scrape time, so nothing here costs anything between scrapes.
 */
export default fp(
  async (app) => {
    const { registry } = app.metrics
    app.evercycleClient.observer = app.metrics.upstreamObserver
    registerTokenMetrics(registry, () => app.tokens.events)
    registerFlowRunnerMetrics(registry, {
      engine: app.engine,
      subscriberCount: () => app.executionEvents.subscriberCount(),
      db: app.db,
      queueSchema: app.config.flowRunner.queueSchema,
      queueName: STEP_QUEUE,
      log: app.log.child({ plugin: 'metrics' })
    })
  },
  { name: 'metrics-sources', dependencies: ['metrics', 'evercycle-client', 'token-store', 'db', 'flow-engine'] }
)
