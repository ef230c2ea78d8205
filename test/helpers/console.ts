import type { AddressInfo } from 'node:net'
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core'
import { buildFlowRunner, type Backend, type FlowRunner, type FlowRunnerOptions } from './flowrunner.js'
import type { Teardown } from './gateway.js'

/** The flags the CORS browser test uses too: no network of Chromium's own (updates, sync, QUIC probes). */
export const CHROMIUM_ARGS = ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync']

export async function launchChromium(t: Teardown): Promise<Browser> {
  const browser = await chromium.launch({ executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium', args: CHROMIUM_ARGS })
  t.teardown(() => browser.close())
  return browser
}

/** A request the console's page made, as the browser sent it. */
export interface SeenRequest {
  method: string
  url: string
  headers: Record<string, string>
}

export interface ConsoleHarness {
  fr: FlowRunner
  /** `http://127.0.0.1:<port>`: the server, listening on loopback. */
  origin: string
  browser: Browser
  /** A fresh browser context (own sessionStorage) on the console, recording every request it makes. */
  open(options?: { colorScheme?: 'light' | 'dark'; viewport?: { width: number; height: number } }): Promise<{ page: Page; context: BrowserContext; requests: SeenRequest[] }>
  /** Logs in through the console's form and waits for the flows page. */
  login(page: Page, email: string, password: string): Promise<void>
}

/** The whole app listening on loopback, and Chromium to drive its console. Everything closes in teardown. */
export async function startConsole(t: Teardown, options: Partial<FlowRunnerOptions> & { backend?: Backend } = {}): Promise<ConsoleHarness> {
  const fr = await buildFlowRunner(t, { ...options, backend: options.backend ?? 'pglite' })
  await fr.app.listen({ port: 0, host: '127.0.0.1' })
  const origin = `http://127.0.0.1:${(fr.app.server.address() as AddressInfo).port}`
  const browser = await launchChromium(t)

  const open: ConsoleHarness['open'] = async (opts = {}) => {
    const context = await browser.newContext({
      viewport: opts.viewport ?? { width: 1280, height: 800 },
      colorScheme: opts.colorScheme ?? 'light'
    })
    t.teardown(() => context.close())
    const requests: SeenRequest[] = []
    context.on('request', (r) => requests.push({ method: r.method(), url: r.url(), headers: r.headers() }))
    const page = await context.newPage()
    await page.goto(`${origin}/console/`)
    return { page, context, requests }
  }

  const login: ConsoleHarness['login'] = async (page, email, password) => {
    await page.getByLabel('Email').fill(email)
    await page.getByLabel('Password').fill(password)
    await page.getByRole('button', { name: 'Log in' }).click()
    await page.getByRole('navigation', { name: 'Main' }).waitFor()
  }

  return { fr, origin, browser, open, login }
}

/** The key the console keeps its session under, in the tab's sessionStorage. */
export const SESSION_KEY = 'evercycle-console-session'

/** The token of the session the console holds in this tab, if any. */
export async function storedToken(page: Page): Promise<string | undefined> {
  // a string to evaluate: the tests' tsconfig has no DOM types
  const raw = await page.evaluate<string | null>(`sessionStorage.getItem(${JSON.stringify(SESSION_KEY)})`)
  const token = (JSON.parse(raw ?? '{}') as { token?: unknown }).token
  return typeof token === 'string' ? token : undefined
}
