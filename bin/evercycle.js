#!/usr/bin/env node
// The built CLI (npm install runs the build through `prepare`).
await import('../dist/src/cli/main.js')
