import path from 'node:path'
import { Command } from 'commander'
import { runCommand } from '../context.js'
import { generateConfigs, MANIFEST_FILE, type GenerateEntry } from '../generate-configs.js'
import { formatJson, formatTable, write } from '../output.js'

interface GenerateFlags {
  out?: string
  force?: boolean
  dryRun?: boolean
  json?: boolean
}

function notes(entry: GenerateEntry): string {
  const parts = [...(entry.reason === null ? [] : [entry.reason]), ...entry.warnings]
  if (entry.fieldsWithoutDefault.length > 0) parts.push(`body fields without a default (not written): ${entry.fieldsWithoutDefault.join(', ')}`)
  return parts.join('; ')
}

export function generateCommand(): Command {
  return new Command('generate')
    .summary('generate operation configs from markdown API specs')
    .description(
      'Parse markdown API specs (*.md in <specs-dir>) into the JSON configs the gateway loads ' +
        '({path, description, method, url, headers, path_params, query_params, body}), one <name>.json per spec, ' +
        'named after the file. In each spec: the first line is the path, the second the description; the method and ' +
        'URL come from a request line ("GET https://api.evercycle.io/v1/asset", also inside a code fence, or ' +
        '"Method:"/"URL:" lines, or curl -X); tables under Headers, Parameters (an "In" column says path, query, ' +
        'header or body) and Body Parameters sections give the rest, their Value/Default column the defaults. ' +
        'Each config is checked the way the gateway checks it at boot; files that cannot be parsed are skipped with ' +
        `the reason. Generated files are recorded by content hash in <config-dir>/${MANIFEST_FILE}: a config ` +
        'whose content no longer matches (you edited it) is kept unless --force.'
    )
    .argument('<specs-dir>', 'directory holding the markdown specs')
    .option('-o, --out <config-dir>', 'where to write the configs (default: EVERCYCLE_CONFIG_DIR, ./config)')
    .option('-f, --force', 'overwrite configs that were edited since they were generated')
    .option('-n, --dry-run', 'report what would be written without writing anything')
    .option('--json', 'print the report as JSON')
    .addHelpText(
      'after',
      `
Auth headers (access-token, Authorization) are never written: tokens come from auth.properties at call time.
Headers and body fields without a value are left out (the gateway would send them as empty values); path and
query parameters are written with "" so you can fill them in.
Exit codes: 0 every spec produced a config (or kept yours), 1 some spec was skipped, 2 bad command line.

Examples:
  $ evercycle generate ./evercycle-api
  $ evercycle generate ./evercycle-api --out ./config --dry-run
  $ evercycle generate ./evercycle-api --force`
    )
    .action(async (specsDir: string, opts: GenerateFlags, command: Command) =>
      runCommand(command, async (ctx) => {
        const outDir = path.resolve(opts.out ?? ctx.config.evercycle.configDir)
        const entries = await generateConfigs({
          specsDir: path.resolve(specsDir),
          outDir,
          baseUrl: ctx.config.evercycle.baseUrl,
          force: opts.force === true,
          dryRun: opts.dryRun === true
        })
        if (opts.json === true) {
          write(process.stdout, formatJson({ outDir, dryRun: opts.dryRun === true, files: entries }, process.stdout.isTTY === true))
        } else {
          const rows = entries.map((e) => [e.spec, e.config ?? '-', e.result, notes(e)])
          process.stdout.write(formatTable(['SPEC', 'CONFIG', 'RESULT', 'NOTES'], rows))
          const written = entries.filter((e) => e.result === 'created' || e.result === 'updated').length
          const skipped = entries.filter((e) => e.result === 'skipped').length
          const kept = entries.filter((e) => e.result === 'kept').length
          write(
            process.stdout,
            `${opts.dryRun === true ? 'Would write' : 'Wrote'} ${written} config(s) to ${outDir}; ${kept} kept, ${skipped} skipped.`
          )
        }
        return entries.some((e) => e.result === 'skipped') ? 1 : 0
      })
    )
}
