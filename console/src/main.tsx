import { render } from 'preact'
import { App } from './app.js'
import { restore } from './auth/session.js'

restore()
const root = document.getElementById('app')
if (root !== null) render(<App />, root)
// when the first page is on screen: the page-weight test reads it
performance.mark('console:rendered')
