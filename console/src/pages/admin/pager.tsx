/** "21–40 of 57" with Previous and Next; the caller keeps the offset (in the URL, so a reload stays put). */
export function Pager({ label, total, limit, offset, onOffset }: { label: string; total: number; limit: number; offset: number; onOffset: (offset: number) => void }) {
  if (total <= limit && offset === 0) return null
  const first = total === 0 ? 0 : offset + 1
  const last = Math.min(total, offset + limit)
  return (
    <nav class="admin-pager" aria-label={label}>
      <button type="button" disabled={offset === 0} onClick={() => onOffset(Math.max(0, offset - limit))}>
        Previous
      </button>
      <span aria-live="polite">
        {first}–{last} of {total}
      </span>
      <button type="button" disabled={offset + limit >= total} onClick={() => onOffset(offset + limit)}>
        Next
      </button>
    </nav>
  )
}
