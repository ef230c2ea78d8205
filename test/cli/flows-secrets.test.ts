import { readFile } from 'node:fs/promises'
import tap from 'tap'
import { errorOf, flowsCli, flowsServer, loginAdmin } from './helpers/flows.js'

const VALUE = 'sk_live_cli-secret-value-0123456789'
const NEW_VALUE = 'sk_live_cli-secret-value-replaced-42'

tap.test('secrets set (create, then replace), list, delete: the value only ever travels on stdin', async (t) => {
  const { fr, url } = await flowsServer(t)
  const cli = await flowsCli(t, url)
  await loginAdmin(cli)
  const outputs: string[] = []
  const run = async (args: string[], stdin?: string): Promise<{ code: number | null; stdout: string; stderr: string }> => {
    t.notOk(args.some((a) => a.includes(VALUE) || a.includes(NEW_VALUE)), 'no value in argv')
    const res = await cli.run(args, stdin)
    outputs.push(res.stdout, res.stderr)
    return res
  }

  const created = await run(['secrets', 'set', 'API_KEY'], `${VALUE}\n`)
  t.equal(created.code, 0, created.stderr)
  t.equal(created.stdout, 'Created secret API_KEY.\n')
  t.same({ ...(await fr.app.secrets.resolve(fr.admin.id)) }, { API_KEY: VALUE }, 'the final newline is not part of the value')

  const replaced = await run(['secrets', 'set', 'API_KEY'], NEW_VALUE)
  t.equal(replaced.code, 0, replaced.stderr)
  t.match(replaced.stdout, /^Updated secret API_KEY \(\d{4}-/)
  t.same({ ...(await fr.app.secrets.resolve(fr.admin.id)) }, { API_KEY: NEW_VALUE }, 'replaced through PUT')

  const short = await run(['secrets', 'set', 'SHORT'], 'short\n')
  t.equal(short.code, 1)
  t.equal(errorOf(short.stderr).error.code, 'validation_error')
  const empty = await run(['secrets', 'set', 'EMPTY'], '')
  t.equal(empty.code, 2)
  const asArgument = await cli.run(['secrets', 'set', 'API_KEY', 'value-as-an-argument'])
  t.equal(asArgument.code, 2, 'a value given as an argument is refused')
  t.notMatch(asArgument.stderr, 'value-as-an-argument')

  const list = await run(['secrets', 'list'])
  t.equal(list.code, 0, list.stderr)
  t.match(list.stdout, /^KEY\s+CREATED\s+UPDATED\nAPI_KEY\s+\d{4}-/)
  const json = await run(['secrets', 'list', '--json'])
  t.same(JSON.parse(json.stdout).map((s: { key: string }) => s.key), ['API_KEY'])

  const user = await fr.createUser('other')
  const forOther = await run(['secrets', 'set', 'FOR_OTHER', '--account', user.id], `${VALUE}\n`)
  t.equal(forOther.code, 0, forOther.stderr)
  t.same({ ...(await fr.app.secrets.resolve(user.id)) }, { FOR_OTHER: VALUE }, 'an admin sets another account\'s secret')

  const deleted = await run(['secrets', 'delete', 'API_KEY'])
  t.equal(deleted.code, 0, deleted.stderr)
  t.equal(deleted.stdout, 'Deleted secret API_KEY.\n')
  const again = await run(['secrets', 'delete', 'API_KEY'])
  t.equal(again.code, 1)
  t.equal(errorOf(again.stderr).error.code, 'not_found')

  const all = outputs.join('\n') + (await readFile(cli.sessionFile, 'utf8'))
  t.notMatch(all, VALUE, 'the value is in no output and not in the session file')
  t.notMatch(all, NEW_VALUE)
})
