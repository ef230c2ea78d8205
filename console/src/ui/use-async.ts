import { useCallback, useEffect, useRef, useState } from 'preact/hooks'
import { messageOf } from '../api/errors.js'

export interface Async<T> {
  data: T | undefined
  error: string | undefined
  loading: boolean
  /** Loads again (keeping the data shown until the new answer arrives). */
  reload: () => void
}

/** Runs `load` when `deps` change, and on `reload()`; an answer that arrives after a newer request is dropped. */
export function useAsync<T>(load: (signal: AbortSignal) => Promise<T>, deps: readonly unknown[]): Async<T> {
  const [data, setData] = useState<T | undefined>(undefined)
  const [error, setError] = useState<string | undefined>(undefined)
  const [loading, setLoading] = useState(true)
  const [tick, setTick] = useState(0)
  const latest = useRef(0)
  useEffect(() => {
    const id = ++latest.current
    const abort = new AbortController()
    setLoading(true)
    load(abort.signal).then(
      (value) => {
        if (id !== latest.current) return
        setData(value)
        setError(undefined)
        setLoading(false)
      },
      (err: unknown) => {
        if (id !== latest.current || abort.signal.aborted) return
        setError(messageOf(err))
        setLoading(false)
      }
    )
    return () => abort.abort()
  }, [...deps, tick])
  const reload = useCallback(() => setTick((n) => n + 1), [])
  return { data, error, loading, reload }
}
