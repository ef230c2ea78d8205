import { runDemo } from './demo/run.js'
import { superviseWithPrettyLogs } from './demo/pretty-logs.js'

/**
 * `npm run demo`: the Evercycle simulator and the gateway wired to it, on the embedded defaults (file token
 * store, PGlite in .demo/data), plus FlowRunner with a first admin, a webhook receiver and example flows (one
 * with a paused schedule and a signed inbound webhook) set up through the real API, then a banner of lines to
 * try (dev/demo/banner.ts). Everything lives under .demo/ so the demo never touches a real config. The server's
 * log is pretty-printed (dev/demo/pretty-logs.ts); docs/demo.md has the ports and variables.
 */
if (!(await superviseWithPrettyLogs())) await runDemo()
