import { spawn } from 'node:child_process'
import { mkdir, mkdtemp, rm } from 'node:fs/promises'
import { createServer, type AddressInfo } from 'node:net'
import os from 'node:os'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { chromium, type Page } from 'playwright-core'
import { FlowRunnerApi } from './demo/flowrunner-api.js'

/**
 * `npm run screenshots`: runs the demo in a scratch directory, drives the console in Chromium and writes the
 * README's screenshots to docs/img/ (light and dark flows list, an execution mid-run, the editor showing an
 * error). CHROMIUM_PATH overrides /usr/bin/chromium.
 */
const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..')
const out = path.join(root, 'docs', 'img')
const ADMIN = { email: 'admin@demo.test', password: 'demo-admin-password' }

const SWEEP = `metadata:
  name: "Nightly grading sweep"
  description: "Lists the active assets, waits for the grading window, then reports"
  version: "1.2.0"
nodes:
  start:
    type: transform
    params:
      expression: "{ 'status': 'active' }"
    next:
      default: assets
  assets:
    type: evercycle
    params:
      operation: get-all
      query:
        status: "\${nodes.start.status}"
    next:
      default: window
  window:
    type: delay
    params:
      duration: 10m
    next:
      default: report
  report:
    type: transform
    params:
      expression: "{ 'graded': $count(nodes.assets.body.data.assets) }"
`

const BROKEN = `metadata:
  name: "Asset intake"
nodes:
  start:
    type: transform
    params:
      expression: "{ 'ok': true }"
    next:
      default: notify
  notify:
    type: webhok
    params:
      url: "https://hooks.example.com/intake"
`

async function freePort(): Promise<number> {
  const server = createServer()
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as AddressInfo
  await new Promise<void>((resolve) => server.close(() => resolve()))
  return port
}

async function startDemo(cwd: string, port: number): Promise<() => Promise<void>> {
  const child = spawn(process.execPath, [path.join(root, 'dist', 'dev', 'demo.js')], {
    cwd,
    env: { ...process.env, PORT: String(port), SIM_PORT: '0', RECEIVER_PORT: '0' },
    stdio: ['ignore', 'pipe', 'inherit']
  })
  let seen = ''
  await new Promise<void>((resolve, reject) => {
    child.stdout.on('data', (chunk: Buffer) => {
      seen += chunk.toString()
      if (seen.includes('Ctrl-C stops everything')) resolve()
    })
    child.once('exit', (code) => reject(new Error(`the demo exited (${code ?? 'signal'}) before its banner`)))
  })
  return async () => {
    child.kill('SIGINT')
    await new Promise((resolve) => child.once('exit', resolve))
  }
}

async function shoot(page: Page, name: string): Promise<void> {
  await page.screenshot({ path: path.join(out, `${name}.png`) })
  process.stdout.write(`wrote docs/img/${name}.png\n`)
}

async function login(page: Page, base: string): Promise<void> {
  await page.goto(`${base}/console/`)
  await page.getByLabel('Email').fill(ADMIN.email)
  await page.getByLabel('Password').fill(ADMIN.password)
  await page.getByRole('button', { name: 'Log in' }).click()
  await page.getByRole('navigation', { name: 'Main' }).waitFor()
}

const cwd = await mkdtemp(path.join(os.tmpdir(), 'console-shots-'))
const port = await freePort()
const stop = await startDemo(cwd, port)
const base = `http://127.0.0.1:${port}`
const browser = await chromium.launch({ executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium', args: ['--no-sandbox', '--disable-gpu'] })
try {
  await mkdir(out, { recursive: true })
  const api = new FlowRunnerApi(base)
  await api.login(ADMIN.email, ADMIN.password)
  const flow = await api.call<{ id: string }>('POST', '/api/v1/flows', { definition: SWEEP, tags: ['nightly', 'grading'] })
  const run = await api.call<{ execution_id: string }>('POST', `/api/v1/flows/${flow.id}/run`, { input: { batch: 'B-2031' } })

  for (const scheme of ['light', 'dark'] as const) {
    const context = await browser.newContext({ viewport: { width: 1280, height: 800 }, colorScheme: scheme })
    const page = await context.newPage()
    await login(page, base)
    await page.getByRole('link', { name: 'Nightly grading sweep' }).first().waitFor()
    await shoot(page, `console-flows-${scheme}`)
    await page.goto(`${base}/console/#/executions/${run.execution_id}`)
    await page.getByText('waiting').first().waitFor()
    await shoot(page, `console-execution-${scheme}`)
    if (scheme === 'light') {
      await page.goto(`${base}/console/#/flows/new`)
      const editor = page.getByLabel('Flow definition')
      await editor.click()
      await page.keyboard.press('ControlOrMeta+A')
      await page.keyboard.insertText(BROKEN)
      await page.getByText(/Line \d+:/).first().waitFor()
      await shoot(page, 'console-editor-error')
    }
    await context.close()
  }
  await api.call('DELETE', `/api/v1/executions/${run.execution_id}`)
} finally {
  await browser.close()
  await stop()
  await rm(cwd, { recursive: true, force: true })
}
