import { useLayoutEffect, useRef, useState } from 'preact/hooks'
import type { LogLine } from '../../api/types.js'
import { atLeast, LEVELS, type Level } from '../../live/log-merge.js'
import type { ExecutionLogs } from '../../live/use-execution-logs.js'
import { ErrorAlert } from '../../ui/alert.js'
import { pretty } from '../../ui/format.js'

/** How close to the end still counts as "at the end" (a fraction of a line's height, as browsers round). */
const END_SLACK_PX = 24

function timeOf(iso: string): string {
  const d = new Date(iso)
  if (Number.isNaN(d.getTime())) return iso
  return `${d.toLocaleTimeString(undefined, { hour12: false })}.${String(d.getMilliseconds()).padStart(3, '0')}`
}

function Line({ line }: { line: LogLine }) {
  const data = line.data === null || line.data === undefined ? undefined : pretty(line.data)
  return (
    <li class={`exec-log-line log-${line.level}`}>
      <time dateTime={line.timestamp} title={line.timestamp}>
        {timeOf(line.timestamp)}
      </time>{' '}
      <span class="exec-log-level">{line.level}</span> {line.node_id === null ? null : <span class="exec-log-node mono">{line.node_id}</span>} <span class="exec-log-message">{line.message}</span>
      {data === undefined || data === '{}' ? null : (
        <details>
          <summary>data</summary>
          <pre>{data}</pre>
        </details>
      )}
    </li>
  )
}

/** The execution's log, filtered by level, following new lines to the end unless the reader scrolls away. */
export function LogsPanel({ logs }: { logs: ExecutionLogs }) {
  const [level, setLevel] = useState<Level>('debug')
  const [follow, setFollow] = useState(true)
  const box = useRef<HTMLDivElement>(null)
  const shown = logs.lines.map((line, i) => ({ line, i })).filter(({ line }) => atLeast(line, level))

  useLayoutEffect(() => {
    const el = box.current
    if (follow && el !== null) el.scrollTop = el.scrollHeight
  }, [follow, shown.length])

  const onScroll = (): void => {
    const el = box.current
    if (el === null) return
    const atEnd = el.scrollHeight - el.scrollTop - el.clientHeight <= END_SLACK_PX
    // scrolling up to read stops following; scrolling back to the end picks it up again
    if (atEnd !== follow) setFollow(atEnd)
  }

  const gap = logs.unread > 0 ? (
    <li class="exec-log-gap">
      {logs.unread} earlier lines not loaded.{' '}
      <button type="button" disabled={logs.loading} onClick={logs.loadMore}>
        Load more lines
      </button>
    </li>
  ) : null
  const before = shown.filter(({ i }) => i < logs.gapAt)
  const after = shown.filter(({ i }) => i >= logs.gapAt)

  return (
    <section aria-labelledby="logs-title">
      <h2 id="logs-title">Logs</h2>
      <div class="toolbar">
        <label>
          Level
          <select value={level} onChange={(e) => setLevel((LEVELS as readonly string[]).includes(e.currentTarget.value) ? (e.currentTarget.value as Level) : 'debug')}>
            {LEVELS.map((l) => (
              <option key={l} value={l}>
                {l === 'error' ? 'error' : `${l} and above`}
              </option>
            ))}
          </select>
        </label>
        <label class="exec-check">
          <input type="checkbox" checked={follow} onChange={(e) => setFollow(e.currentTarget.checked)} />
          Follow
        </label>
        <span class="muted">
          {shown.length} of {logs.lines.length} lines{logs.loading ? ', loading…' : ''}
        </span>
      </div>
      <ErrorAlert message={logs.error} />
      <div class="exec-log-view" ref={box} tabIndex={0} role="log" aria-label="Execution log" onScroll={onScroll}>
        <ol>
          {before.map(({ line, i }) => (
            <Line key={i} line={line} />
          ))}
          {gap}
          {after.map(({ line, i }) => (
            <Line key={i} line={line} />
          ))}
        </ol>
      </div>
    </section>
  )
}
