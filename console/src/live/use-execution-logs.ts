import { useEffect, useMemo, useRef, useState } from 'preact/hooks'
import { api } from '../api/client.js'
import { messageOf } from '../api/errors.js'
import type { LogLine, Page } from '../api/types.js'
import { mergeLogs } from './log-merge.js'

const PAGE = 100
/** Lines read per load: enough for any ordinary run; a long loop's log is read further on request. */
const BATCH = 1_000

interface LogsReply extends Page {
  logs: LogLine[]
}

export interface ExecutionLogs {
  /** Stored lines then live ones, oldest first. */
  lines: readonly LogLine[]
  /** Stored lines not read yet (they come before the live ones in `lines`, at `gapAt`). */
  unread: number
  gapAt: number
  loading: boolean
  error: string | undefined
  loadMore: () => void
}

/**
 * The execution's log: read from the API (every level: the filter is the panel's, and node timings need the
 * info lines) once its socket is open, so a line published in between is either stored or live; read on from
 * where it stopped after a reconnect, when lines may have passed unseen.
 */
export function useExecutionLogs(id: string, live: readonly LogLine[], opens: number, socketGaveUp: boolean): ExecutionLogs {
  const [stored, setStored] = useState<readonly LogLine[]>([])
  const [total, setTotal] = useState(0)
  const [loading, setLoading] = useState(false)
  const [error, setError] = useState<string | undefined>(undefined)
  const [more, setMore] = useState(0)
  const state = useRef({ stored: [] as readonly LogLine[], total: 0, asked: 0, capped: false })

  useEffect(() => {
    state.current = { stored: [], total: 0, asked: 0, capped: false }
    setStored([])
    setTotal(0)
  }, [id])

  // reading starts once the socket is open (or has failed to open at all)
  const ready = opens > 0 || socketGaveUp
  useEffect(() => {
    const s = state.current
    // a log cut at BATCH lines stays so until more is asked for: a reconnect reads on only otherwise
    if (!ready || (s.capped && more === s.asked)) return
    s.asked = more
    // a newer run of this effect aborts this one, and reads on from the pages this one kept
    const abort = new AbortController()
    setLoading(true)
    void (async () => {
      try {
        let read = 0
        for (;;) {
          const reply = await api<LogsReply>('GET', `/api/v1/executions/${encodeURIComponent(id)}/logs`, { query: { limit: PAGE, offset: s.stored.length }, signal: abort.signal })
          if (abort.signal.aborted) return
          s.stored = [...s.stored, ...reply.logs]
          s.total = reply.total
          read += reply.logs.length
          s.capped = reply.logs.length === PAGE && read >= BATCH
          if (reply.logs.length < PAGE || s.capped) break
        }
        setError(undefined)
      } catch (err) {
        if (!abort.signal.aborted) setError(messageOf(err))
      }
      if (abort.signal.aborted) return
      setStored(s.stored)
      setTotal(s.total)
      setLoading(false)
    })()
    return () => abort.abort()
  }, [id, ready, opens, more])

  const merged = useMemo(() => mergeLogs(stored, live), [stored, live])
  return {
    lines: merged.lines,
    unread: Math.max(0, total - stored.length),
    gapAt: merged.liveFrom,
    loading,
    error,
    loadMore: () => setMore((n) => n + 1)
  }
}
