import { render } from 'preact'
import { App } from './app.js'
import { restore } from './auth/session.js'

restore()
const root = document.getElementById('app')
if (root !== null) render(<App />, root)
