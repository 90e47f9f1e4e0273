# syntax=docker/dockerfile:1
#
# One image for both services; the command picks which one runs:
#   docker run kafka-throttle packages/ingest/src/main.ts
#   docker run kafka-throttle packages/drain/src/main.ts
# Configured by environment variables only (the names in the README's configuration table).
# There is no compile step: the services run their TypeScript with tsx, a production dependency.

ARG NODE_IMAGE=node:20-slim

# ---- build: production dependencies of the workspace, installed exactly from the lockfile ----
FROM ${NODE_IMAGE} AS build
# Must equal "packageManager" in package.json (scripts/compose-check.ts checks it). corepack is
# not used: it cannot verify pnpm's signature on every machine we build on.
ARG PNPM_VERSION=10.34.9
RUN npm install --global --no-fund --no-audit --no-update-notifier "pnpm@${PNPM_VERSION}"
WORKDIR /app
# Manifests first, so the dependency layer is rebuilt only when they change.
COPY package.json pnpm-lock.yaml pnpm-workspace.yaml .npmrc ./
COPY packages/common/package.json packages/common/
COPY packages/ingest/package.json packages/ingest/
COPY packages/drain/package.json packages/drain/
# --prod leaves out every devDependency (tests, linters, type checkers); hoisting tsx to the root
# lets `node --import tsx` find it from /app for either service.
RUN --mount=type=cache,id=pnpm-store,target=/root/.local/share/pnpm/store \
    pnpm install --frozen-lockfile --prod --config.public-hoist-pattern=tsx
COPY config/ config/
COPY packages/ packages/

# ---- runtime: Node and the app, no package manager, not root ----
FROM ${NODE_IMAGE} AS runtime
ENV NODE_ENV=production
WORKDIR /app
# Owned by root and only readable by the service user: the process cannot rewrite its own code.
COPY --from=build /app /app
USER node
EXPOSE 8080 8081
# Either service answers /healthz on its own port; the other port is simply closed.
HEALTHCHECK --interval=10s --timeout=5s --start-period=30s --retries=3 \
  CMD ["node", "-e", "const e = process.env; Promise.any([e.INGEST_PORT || 8080, e.DRAIN_PORT || 8081].map((p) => fetch('http://127.0.0.1:' + p + '/healthz', { signal: AbortSignal.timeout(3000) }).then((r) => { if (!r.ok) throw new Error(String(r.status)); }))).then(() => process.exit(0), () => process.exit(1));"]
ENTRYPOINT ["node", "--import", "tsx"]
CMD ["packages/ingest/src/main.ts"]
