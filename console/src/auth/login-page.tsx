import { useState } from 'preact/hooks'
import { ApiError, messageOf } from '../api/errors.js'
import { ErrorAlert, Notice } from '../ui/alert.js'
import { useStore } from '../store.js'
import { endedBecause, login } from './session.js'

export function LoginPage() {
  const [email, setEmail] = useState('')
  const [password, setPassword] = useState('')
  const [error, setError] = useState<string | undefined>(undefined)
  const [busy, setBusy] = useState(false)
  const ended = useStore(endedBecause)

  const submit = async (e: Event): Promise<void> => {
    e.preventDefault()
    setBusy(true)
    setError(undefined)
    try {
      await login(email.trim(), password)
    } catch (err) {
      setError(err instanceof ApiError && err.status === 401 ? 'Wrong email or password.' : messageOf(err))
      setBusy(false)
    }
  }

  return (
    <main class="login" id="main">
      <form class="card login-card" onSubmit={(e) => void submit(e)} aria-labelledby="login-title">
        <h1 id="login-title">Evercycle console</h1>
        <p class="muted">Log in with your FlowRunner account.</p>
        {ended === undefined ? null : <Notice>{ended}</Notice>}
        <label for="login-email">Email</label>
        <input id="login-email" type="email" name="email" autocomplete="username" required value={email} onInput={(e) => setEmail(e.currentTarget.value)} />
        <label for="login-password">Password</label>
        <input id="login-password" type="password" name="password" autocomplete="current-password" required value={password} onInput={(e) => setPassword(e.currentTarget.value)} />
        <ErrorAlert message={error} />
        <button type="submit" class="primary" disabled={busy}>
          Log in
        </button>
      </form>
    </main>
  )
}
