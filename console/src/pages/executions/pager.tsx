/** Previous / next over an offset-paged list, with where the reader is ("11–20 of 42"). */
export function Pager({ label, offset, limit, total, onOffset }: { label: string; offset: number; limit: number; total: number; onOffset: (offset: number) => void }) {
  if (total <= limit && offset === 0) return null
  const last = Math.min(offset + limit, total)
  return (
    <nav class="exec-pager" aria-label={label}>
      <button type="button" disabled={offset === 0} onClick={() => onOffset(Math.max(0, offset - limit))}>
        Previous page
      </button>
      <span>
        {total === 0 ? 'None' : `${offset + 1}–${last} of ${total}`}
      </span>
      <button type="button" disabled={last >= total} onClick={() => onOffset(offset + limit)}>
        Next page
      </button>
    </nav>
  )
}
