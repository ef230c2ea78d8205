import { readFile } from 'node:fs/promises'
import t from 'tap'

/** The console's colour pairs that carry text: [foreground, background]. */
const PAIRS: ReadonlyArray<readonly [string, string]> = [
  ['--text', '--bg'],
  ['--text', '--surface'],
  ['--text', '--surface-2'],
  ['--muted', '--bg'],
  ['--muted', '--surface'],
  ['--muted', '--surface-2'],
  ['--accent', '--surface'],
  ['--accent', '--bg'],
  ['--accent-text', '--accent'],
  ['--ok', '--ok-bg'],
  ['--bad', '--bad-bg'],
  ['--warn', '--warn-bg'],
  ['--info', '--info-bg'],
  ['--idle', '--idle-bg'],
  // the editors: tokens on the surface, the active line and a marked (problem) line; text on a selection
  ...['--text', '--code-keyword', '--code-string', '--code-number', '--code-property'].flatMap((fg) =>
    ['--surface', '--active-line', '--mark'].map((bg) => [fg, bg] as const)
  ),
  ['--text', '--selection']
]

/** WCAG 2.x AA for normal text. */
const AA = 4.5

function variables(block: string): Map<string, string> {
  const vars = new Map<string, string>()
  for (const m of block.matchAll(/(--[a-z0-9-]+):\s*(#[0-9a-f]{6})\s*;/gi)) vars.set(m[1] as string, (m[2] as string).toLowerCase())
  return vars
}

function luminance(hex: string): number {
  const [r, g, b] = [1, 3, 5].map((i) => {
    const c = parseInt(hex.slice(i, i + 2), 16) / 255
    return c <= 0.03928 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4
  }) as [number, number, number]
  return 0.2126 * r + 0.7152 * g + 0.0722 * b
}

function contrast(a: string, b: string): number {
  const [hi, lo] = [luminance(a), luminance(b)].sort((x, y) => y - x) as [number, number]
  return (hi + 0.05) / (lo + 0.05)
}

t.test("the console's text colours meet WCAG AA (4.5:1) on their backgrounds, in both themes", async (t) => {
  const css = await readFile(new URL('../../console/src/styles.css', import.meta.url), 'utf8')
  // every `:root` block outside the dark media query is the light theme; those inside it override them
  const darkBlocks = [...css.matchAll(/@media \(prefers-color-scheme: dark\) \{\s*:root \{([^}]*)\}/g)].map((m) => m[1] ?? '')
  const lightBlocks = [...css.replace(/@media \(prefers-color-scheme: dark\) \{\s*:root \{[^}]*\}/g, '').matchAll(/:root \{([^}]*)\}/g)].map((m) => m[1] ?? '')
  t.ok(darkBlocks.length > 0, 'a dark theme')
  const light = variables(lightBlocks.join('\n'))
  const dark = new Map([...light, ...variables(darkBlocks.join('\n'))])
  for (const [theme, vars] of [['light', light], ['dark', dark]] as const) {
    for (const [fg, bg] of PAIRS) {
      const a = vars.get(fg)
      const b = vars.get(bg)
      t.ok(a !== undefined && b !== undefined, `${theme}: ${fg} and ${bg} are defined`)
      if (a === undefined || b === undefined) continue
      const ratio = contrast(a, b)
      t.ok(ratio >= AA, `${theme}: ${fg} ${a} on ${bg} ${b} is ${ratio.toFixed(2)}:1`)
    }
  }
})
