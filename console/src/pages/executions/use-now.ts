import { useEffect, useState } from 'preact/hooks'

/** Now, moving on each second while `active`: a time "so far" that keeps counting between events. */
export function useNow(active: boolean): number {
  const [now, setNow] = useState(Date.now())
  useEffect(() => {
    if (!active) return
    setNow(Date.now())
    const timer = setInterval(() => setNow(Date.now()), 1_000)
    return () => clearInterval(timer)
  }, [active])
  return now
}
