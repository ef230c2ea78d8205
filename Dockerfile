# syntax=docker/dockerfile:1
# Evercycle gateway + FlowRunner. Build: docker build -t evercycle-gateway .   Run: see docs/deploy.md.

ARG NODE_IMAGE=node:24-slim

# ---- build: full dependency tree, compile TypeScript to dist/ ----
FROM ${NODE_IMAGE} AS build
WORKDIR /app
COPY package.json package-lock.json ./
# scripts off: `prepare` would run the build before the sources are copied; the build runs explicitly below
RUN npm ci --ignore-scripts --no-audit --no-fund
COPY . .
# the bench and dev/ (simulator, demo) are not part of the service
RUN npm run build && rm -rf dist/bench dist/dev

# ---- runtime: production dependencies and the compiled app only, as the unprivileged `node` user ----
FROM ${NODE_IMAGE} AS runtime
WORKDIR /app
ENV NODE_ENV=production \
    HOST=0.0.0.0 \
    PORT=5000 \
    EVERCYCLE_CONFIG_DIR=/app/config \
    TOKEN_FILE=/app/data/auth.properties \
    DATA_DIR=/app/data
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --ignore-scripts --no-audit --no-fund && npm cache clean --force
COPY --from=build /app/dist ./dist
COPY bin ./bin
# volume mount points must exist and belong to `node` so named volumes start out writable by it
RUN install -d -o node -g node -m 0750 /app/config /app/data
USER node
VOLUME ["/app/config", "/app/data"]
EXPOSE 5000
# liveness only (no I/O behind /api/health); node because slim images carry no curl
HEALTHCHECK --interval=15s --timeout=5s --start-period=30s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:'+(process.env.PORT||5000)+'/api/health').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"]
# SIGTERM (Docker's default stop signal) drains in-flight requests before exit. The flags are package.json's
# "start" script's (a test keeps them equal): a 32 MB young generation, so requests that wait on a slow upstream
# mostly die young instead of being copied and promoted by the scavenges that run while they wait.
CMD ["node", "--max-semi-space-size=32", "dist/app/server.js"]
