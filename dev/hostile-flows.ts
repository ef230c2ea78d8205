/**
 * The hostile flows of issue 19, as YAML definitions: what the isolation tests and `npm run bench:hostile` run
 * against the server to show that a flow's expressions cannot stall it.
 */

/** Catastrophic backtracking: each extra `a` doubles the time; with `a`s = 30 it runs for minutes. */
export function regexBomb(as: number): string {
  return `$contains("${'a'.repeat(as)}!", /^(a+)+$/)`
}

/** A one-node flow whose transform evaluates `expression` (written inside single quotes: none in it). */
export function transformFlow(name: string, expression: string): string {
  return `
metadata: { name: ${name} }
nodes:
  start:
    type: transform
    params:
      expression: '${expression}'
`
}

/** A one-node flow: an http.request (to a port nothing listens on) whose eight headers each evaluate `expression`. */
export function eightTemplatesFlow(name: string, expression: string): string {
  const headers = Array.from({ length: 8 }, (_, i) => `        x-h${i}: '\${${expression}}'`).join('\n')
  return `
metadata: { name: ${name} }
nodes:
  start:
    type: http.request
    params:
      url: "http://127.0.0.1:9/never"
      headers:
${headers}
`
}
