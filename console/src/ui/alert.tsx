import type { ComponentChildren } from 'preact'

/** An error people must notice: announced by screen readers as it appears. */
export function ErrorAlert({ message }: { message: string | undefined }) {
  if (message === undefined) return null
  return (
    <p class="alert alert-error" role="alert">
      {message}
    </p>
  )
}

/** A passing confirmation ("Saved"), announced politely. */
export function Notice({ children }: { children: ComponentChildren }) {
  return (
    <p class="alert alert-ok" role="status">
      {children}
    </p>
  )
}
