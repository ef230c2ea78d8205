import { input, password, select, Separator } from '@inquirer/prompts'
import type { CallRequest, FieldInfo, OperationInfo } from './backend.js'
import { errorBody } from './cli-error.js'
import type { CliContext } from './context.js'
import { parseAssignment } from './kv.js'
import { formatJson, formatJsonText, write, type OutStream } from './output.js'
import { performCall } from './perform-call.js'

const QUIT = ':quit'
const SIGN_IN = ':sign-in'

type Next = 'again' | 'edit' | 'back' | 'quit'

/**
 * The old `evercycle_api_runner.py` menu: pick an operation, fill path parameters, query parameters, headers
 * and body fields (config defaults shown and used on Enter), call, read the response, then repeat, edit, go
 * back or quit. Prompts read stdin even when it is not a terminal, which is how the tests drive it.
 */
export async function runInteractive(ctx: CliContext, out: OutStream = process.stdout): Promise<number> {
  for (;;) {
    const ops = await ctx.backend.operations()
    const width = Math.max(...ops.map((o) => o.name.length), 4)
    const choice = await select<string>({
      message: `Operation (${ctx.backend.mode === 'direct' ? ctx.backend.target : `gateway ${ctx.backend.target}`})`,
      choices: [
        ...ops.map((op) => ({ name: `${op.name.padEnd(width)}  ${op.method.padEnd(6)} ${op.path}`, value: op.name, description: op.description })),
        new Separator(),
        { name: 'Sign in', value: SIGN_IN, description: 'Sign in to Evercycle with a username and password' },
        { name: 'Quit', value: QUIT }
      ],
      pageSize: ops.length + 3,
      loop: false
    })
    if (choice === QUIT) return 0
    if (choice === SIGN_IN) {
      await signIn(ctx, out)
      continue
    }
    const op = ops.find((o) => o.name === choice) as OperationInfo
    let request = await askRequest(ctx, op, undefined)
    let next: Next = 'again'
    while (next === 'again' || next === 'edit') {
      if (next === 'edit') request = await askRequest(ctx, op, request)
      await callAndShow(ctx, request, out)
      next = await select<Next>({
        message: 'Next',
        choices: [
          { name: 'Call again with the same values', value: 'again' },
          { name: 'Change the values and call again', value: 'edit' },
          { name: 'Back to the operations', value: 'back' },
          { name: 'Quit', value: 'quit' }
        ],
        loop: false
      })
    }
    if (next === 'quit') return 0
  }
}

async function signIn(ctx: CliContext, out: OutStream): Promise<void> {
  const username = await input({ message: 'Evercycle username', default: ctx.config.evercycle.username, validate: (v) => v.trim() !== '' || 'Enter a username' })
  const secret = await password({ message: `Password for ${username.trim()}`, validate: (v) => v !== '' || 'Enter the password' })
  ctx.rememberSecret(secret)
  try {
    const result = await ctx.backend.signIn({ username: username.trim(), password: secret })
    write(out, `Signed in as ${username.trim()}; tokens kept in ${result.storedIn}.`)
  } catch (err) {
    write(out, formatJson(errorBody(err), true))
  }
}

async function callAndShow(ctx: CliContext, request: CallRequest, out: OutStream): Promise<void> {
  const outcome = await performCall(ctx, request)
  if (!outcome.ok) {
    write(out, `${outcome.method} ${outcome.path} failed (${outcome.ms} ms):`)
    write(out, formatJson(errorBody(outcome.error), true))
    return
  }
  write(out, `${outcome.method} ${outcome.path} → ${outcome.result.statusCode} (${outcome.ms} ms)`)
  const envelope = outcome.result.envelope
  if (envelope.kind === 'buffered') {
    write(out, formatJsonText(envelope.payload.toString('utf8'), true))
  } else {
    const chunks: Buffer[] = []
    for await (const chunk of envelope.stream) chunks.push(chunk as Buffer)
    write(out, formatJsonText(Buffer.concat(chunks).toString('utf8'), true))
  }
}

function shown(value: unknown): string | undefined {
  if (value === undefined) return undefined
  return typeof value === 'string' ? value : JSON.stringify(value)
}

/** Text typed for a field whose default is not text is read as JSON when it parses (`12`, `true`, `[1]`). */
function typed(text: string, defaultValue: unknown): unknown {
  if (typeof defaultValue === 'string' || defaultValue === undefined) return text
  try {
    return JSON.parse(text) as unknown
  } catch {
    return text
  }
}

async function askField(message: string, field: FieldInfo, previous: unknown): Promise<string> {
  const fallback = shown(previous ?? field.default)
  return (
    await input({
      message: field.description === '' ? message : `${message} (${field.description})`,
      default: fallback,
      validate: (v) => !field.required || v.trim() !== '' || fallback !== undefined || 'Required'
    })
  ).trim()
}

/** `key=value` lines until an empty one; `:=` (body only) takes JSON. */
async function askExtras(message: string, json: boolean, into: (key: string, value: unknown) => void): Promise<void> {
  for (;;) {
    const line = (await input({ message, validate: (v) => v.trim() === '' || v.includes('=') || 'Use key=value, or leave empty to go on' })).trim()
    if (line === '') return
    try {
      const a = parseAssignment(line, 'value', json)
      into(a.key, a.json ? JSON.parse(a.value) : a.value)
    } catch (err) {
      process.stdout.write(`  ${(err as Error).message}\n`)
    }
  }
}

async function askRequest(ctx: CliContext, op: OperationInfo, previous: CallRequest | undefined): Promise<CallRequest> {
  const request: CallRequest = { operation: op.name, pathParams: {}, query: {} }
  for (const p of op.pathParams) {
    const value = await askField(`Path parameter ${p.name} (in ${p.in})`, p, previous?.pathParams[p.name])
    if (value !== '') request.pathParams[p.name] = value
  }
  for (const f of op.queryFields) {
    const value = await askField(`Query ${f.name}`, f, previous?.query[f.name])
    if (value !== '') request.query[f.name] = value
  }
  await askExtras('Extra query parameter (key=value, empty to go on)', false, (k, v) => {
    request.query[k] = String(v)
  })
  if (ctx.backend.mode === 'direct') {
    const headers: Record<string, string> = {}
    for (const [name, value] of Object.entries(op.headers)) {
      const given = await input({ message: `Header ${name}`, default: previous?.headers?.[name] ?? value })
      if (given.trim() !== value) headers[name] = given.trim()
    }
    await askExtras('Extra header (Name=value, empty to go on)', false, (k, v) => {
      headers[k] = String(v)
    })
    if (Object.keys(headers).length > 0) request.headers = headers
  }
  if (op.hasBody) {
    const body: Record<string, unknown> = {}
    for (const f of op.bodyFields) {
      const value = await askField(`Body ${f.name}`, f, previous?.body?.[f.name])
      if (value !== '') body[f.name] = typed(value, f.default)
    }
    await askExtras('Extra body field (key=value, key:=json; empty to go on)', true, (k, v) => {
      body[k] = v
    })
    request.body = body
  }
  return request
}
