import { useEffect, useRef } from 'preact/hooks'

/**
 * Calls `tick` every `everyMs` while `active` and the tab is visible, and once as soon as the tab becomes
 * visible again (a list left in the background catches up at once). There is no list WebSocket, so a list
 * with executions still going polls; a hidden tab costs the server nothing.
 */
export function usePoll(active: boolean, everyMs: number, tick: () => void): void {
  const latest = useRef(tick)
  latest.current = tick
  useEffect(() => {
    if (!active) return
    let timer: ReturnType<typeof setInterval> | undefined
    const start = (): void => {
      clearInterval(timer)
      timer = document.visibilityState === 'visible' ? setInterval(() => latest.current(), everyMs) : undefined
    }
    const onVisibility = (): void => {
      if (document.visibilityState === 'visible') latest.current()
      start()
    }
    start()
    document.addEventListener('visibilitychange', onVisibility)
    return () => {
      clearInterval(timer)
      document.removeEventListener('visibilitychange', onVisibility)
    }
  }, [active, everyMs])
}
