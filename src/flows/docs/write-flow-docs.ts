import { writeFile } from 'node:fs/promises'
import path from 'node:path'
import { FLOW_DOCS_PATH, renderFlowDocs } from './render-flow-docs.js'

/** `npm run docs`: writes docs/flows.md from the schemas (run from the repository's root, as npm does). */
const target = path.resolve(process.cwd(), FLOW_DOCS_PATH)
await writeFile(target, renderFlowDocs())
console.log(`wrote ${path.relative(process.cwd(), target)}`)
