/** Above this many cells the middle of the two texts is shown as replaced wholesale instead of aligned. */
const MAX_CELLS = 4_000_000
const CONTEXT = 3

type Op = { kind: ' ' | '-' | '+'; text: string }

function splitLines(text: string): string[] {
  const lines = text.split('\n')
  if (lines.at(-1) === '') lines.pop()
  return lines
}

/** The edit script between a and b: a longest common subsequence over what differs after the shared ends. */
function edits(a: string[], b: string[]): Op[] {
  let start = 0
  while (start < a.length && start < b.length && a[start] === b[start]) start++
  let endA = a.length
  let endB = b.length
  while (endA > start && endB > start && a[endA - 1] === b[endB - 1]) {
    endA--
    endB--
  }
  const head: Op[] = a.slice(0, start).map((text) => ({ kind: ' ', text }))
  const tail: Op[] = a.slice(endA).map((text) => ({ kind: ' ', text }))
  const ma = a.slice(start, endA)
  const mb = b.slice(start, endB)
  const n = ma.length
  const m = mb.length
  const middle: Op[] = []
  if ((n + 1) * (m + 1) > MAX_CELLS) {
    middle.push(...ma.map((text): Op => ({ kind: '-', text })), ...mb.map((text): Op => ({ kind: '+', text })))
  } else {
    // lcs[i][j]: the longest common subsequence of ma[i..] and mb[j..]
    const lcs = new Uint32Array((n + 1) * (m + 1))
    for (let i = n - 1; i >= 0; i--) {
      for (let j = m - 1; j >= 0; j--) {
        lcs[i * (m + 1) + j] = ma[i] === mb[j] ? (lcs[(i + 1) * (m + 1) + j + 1] ?? 0) + 1 : Math.max(lcs[(i + 1) * (m + 1) + j] ?? 0, lcs[i * (m + 1) + j + 1] ?? 0)
      }
    }
    let i = 0
    let j = 0
    while (i < n || j < m) {
      if (i < n && j < m && ma[i] === mb[j]) {
        middle.push({ kind: ' ', text: ma[i++] as string })
        j++
      } else if (i < n && (j === m || (lcs[(i + 1) * (m + 1) + j] ?? 0) >= (lcs[i * (m + 1) + j + 1] ?? 0))) {
        // removals before additions, as diff(1) shows a changed line
        middle.push({ kind: '-', text: ma[i++] as string })
      } else {
        middle.push({ kind: '+', text: mb[j++] as string })
      }
    }
  }
  return [...head, ...middle, ...tail]
}

/**
 * A unified diff of two texts (`---`/`+++` headers, `@@` hunks with three lines of context), or '' when they
 * are the same.
 */
export function unifiedDiff(before: string, after: string, fromLabel: string, toLabel: string): string {
  if (before === after) return ''
  const ops = edits(splitLines(before), splitLines(after))
  const changed = ops.map((op, i) => (op.kind === ' ' ? -1 : i)).filter((i) => i >= 0)
  const out = [`--- ${fromLabel}`, `+++ ${toLabel}`]
  if (changed.length === 0) {
    out.push('@@ only the line endings or the final newline differ @@')
    return `${out.join('\n')}\n`
  }
  // group changes whose context overlaps into hunks
  const hunks: Array<[number, number]> = []
  for (const i of changed) {
    const last = hunks.at(-1)
    if (last !== undefined && i - last[1] <= 2 * CONTEXT) last[1] = i
    else hunks.push([i, i])
  }
  // line numbers in a and b at each op
  const lineA: number[] = []
  const lineB: number[] = []
  let la = 1
  let lb = 1
  for (const op of ops) {
    lineA.push(la)
    lineB.push(lb)
    if (op.kind !== '+') la++
    if (op.kind !== '-') lb++
  }
  for (const [first, last] of hunks) {
    const from = Math.max(0, first - CONTEXT)
    const to = Math.min(ops.length - 1, last + CONTEXT)
    const slice = ops.slice(from, to + 1)
    const countA = slice.filter((o) => o.kind !== '+').length
    const countB = slice.filter((o) => o.kind !== '-').length
    const startA = countA === 0 ? (lineA[from] ?? 1) - 1 : (lineA[from] ?? 1)
    const startB = countB === 0 ? (lineB[from] ?? 1) - 1 : (lineB[from] ?? 1)
    out.push(`@@ -${startA},${countA} +${startB},${countB} @@`)
    for (const op of slice) out.push(`${op.kind}${op.text}`)
  }
  return `${out.join('\n')}\n`
}
