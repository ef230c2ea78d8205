import { readdir, readFile } from 'node:fs/promises'
import path from 'node:path'
import { gzipSync } from 'node:zlib'
import t from 'tap'
import { defaultConsoleDir } from '../../src/console/console-files.js'
import { startConsole } from '../helpers/console.js'

/** The page-weight budget: all of the console's JavaScript, gzipped. */
const JS_BUDGET_BYTES = 400 * 1024

t.test("the console's JavaScript stays under 400 kB gzip; its first load is measured and printed", async (t) => {
  const dir = path.join(defaultConsoleDir(), 'assets')
  const scripts = (await readdir(dir)).filter((f) => f.endsWith('.js'))
  t.ok(scripts.length > 0, 'the console is built')
  let raw = 0
  let gzip = 0
  for (const name of scripts) {
    const body = await readFile(path.join(dir, name))
    raw += body.length
    gzip += gzipSync(body, { level: 9 }).length
  }
  t.comment(`console JavaScript: ${scripts.length} files, ${(raw / 1024).toFixed(1)} kB, ${(gzip / 1024).toFixed(1)} kB gzip (budget 400 kB gzip)`)
  t.ok(gzip < JS_BUDGET_BYTES, `${gzip} bytes gzip is under the budget`)

  const c = await startConsole(t)
  const { page, requests } = await c.open()
  // a second load in a fresh context: the first paid Chromium's own start-up
  const { page: cold } = await c.open()
  await cold.getByRole('button', { name: 'Log in' }).waitFor()
  const timing = await cold.evaluate(() => {
    // the page's Navigation Timing entry (this file's types are Node's, which lack the DOM's entry types)
    type NavigationEntry = { domContentLoadedEventEnd: number; loadEventEnd: number; transferSize: number }
    const nav = (performance.getEntriesByType as unknown as (type: string) => NavigationEntry[])('navigation')[0] as NavigationEntry
    return { domContentLoaded: nav.domContentLoadedEventEnd, load: nav.loadEventEnd, transfer: nav.transferSize }
  })
  const shown = await cold.evaluate(() => performance.getEntriesByName('console:rendered')[0]?.startTime ?? -1)
  t.comment(`console first load on loopback: DOMContentLoaded ${timing.domContentLoaded.toFixed(0)} ms, load ${timing.load.toFixed(0)} ms, first render at ${shown.toFixed(0)} ms`)
  t.ok(timing.load > 0, 'the load event fired')

  // what came over the wire: gzip, and only from this origin
  await page.getByRole('button', { name: 'Log in' }).waitFor()
  const assets = requests.filter((r) => r.url.includes('/console/assets/'))
  t.ok(assets.length >= 2, 'the script and the stylesheet were fetched')
  for (const r of requests) t.equal(new URL(r.url).origin, c.origin, `${r.url} is this origin`)
  const res = await fetch(`${c.origin}/console/assets/${scripts[0] ?? ''}`, { headers: { 'accept-encoding': 'gzip' } })
  t.equal(res.headers.get('content-encoding'), 'gzip', 'served gzipped')
  t.match(res.headers.get('cache-control') ?? '', /immutable/, 'hashed assets are cached for good')
  const again = await fetch(`${c.origin}/console/assets/${scripts[0] ?? ''}`, { headers: { 'if-none-match': res.headers.get('etag') ?? '' } })
  t.equal(again.status, 304, 'a revalidation is a 304')
  const missing = await fetch(`${c.origin}/console/assets/nope.js`)
  t.equal(missing.status, 404)
})
