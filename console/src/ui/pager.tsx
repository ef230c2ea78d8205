/** "21–40 of 57" with Previous and Next; the caller keeps the offset (in the URL, so a reload stays put). */
export function Pager({ label, total, limit, offset, onOffset }: { label: string; total: number; limit: number; offset: number; onOffset: (offset: number) => void }) {
  if (total <= limit && offset === 0) return null
  const last = Math.min(total, offset + limit)
  return (
    <nav class="pager" aria-label={label}>
      <button type="button" disabled={offset === 0} onClick={() => onOffset(Math.max(0, offset - limit))}>
        Previous page
      </button>
      <span aria-live="polite">{total === 0 ? 'None' : `${offset + 1}–${last} of ${total}`}</span>
      <button type="button" disabled={last >= total} onClick={() => onOffset(offset + limit)}>
        Next page
      </button>
    </nav>
  )
}
