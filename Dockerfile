# One image for both services; the command picks which one runs:
#   docker run kafka-throttle packages/ingest/dist/main.js
#   docker run kafka-throttle packages/drain/dist/main.js
# Configured by environment variables only (the names in the README's configuration table).
# The services run as JavaScript compiled by `pnpm build`, with plain node: no TypeScript tooling
# is in the image.
#
# No `# syntax=` line on purpose: it makes BuildKit pull a frontend image from a registry, and
# the built-in frontend already understands everything used here (RUN --mount included).

ARG NODE_IMAGE=node:20-slim

# ---- base: pnpm and the workspace's manifests ----
FROM ${NODE_IMAGE} AS base
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

# ---- deps: production dependencies of the workspace, installed exactly from the lockfile ----
FROM base AS deps
# --prod leaves out every devDependency (tests, linters, TypeScript, tsx).
RUN --mount=type=cache,id=pnpm-store,target=/root/.local/share/pnpm/store \
    pnpm install --frozen-lockfile --prod

# ---- build: every dependency, then `pnpm build` (tsc) writes packages/*/dist ----
FROM base AS build
RUN --mount=type=cache,id=pnpm-store,target=/root/.local/share/pnpm/store \
    pnpm install --frozen-lockfile
COPY tsconfig.base.json tsconfig.build.json ./
COPY packages/ packages/
RUN pnpm build

# ---- runtime: Node, production dependencies and the compiled code; no package manager, not root ----
FROM ${NODE_IMAGE} AS runtime
ENV NODE_ENV=production
WORKDIR /app
# Owned by root and only readable by the service user: the process cannot rewrite its own code.
COPY --from=deps /app /app
COPY --from=build /app/packages/common/dist packages/common/dist
COPY --from=build /app/packages/ingest/dist packages/ingest/dist
COPY --from=build /app/packages/drain/dist packages/drain/dist
COPY packages/ingest/page/ packages/ingest/page/
COPY config/ config/
USER node
EXPOSE 8080 8081
# Either service answers /healthz on its own port; the other port is simply closed. Generous
# timings: a `node -e` probe on a busy host can take seconds to start, and one slow start must not
# mark a healthy service unhealthy (compose --wait gives up at the first unhealthy).
HEALTHCHECK --interval=10s --timeout=10s --start-period=60s --retries=5 \
  CMD ["node", "-e", "const e = process.env; Promise.any([e.INGEST_PORT || 8080, e.DRAIN_PORT || 8081].map((p) => fetch('http://127.0.0.1:' + p + '/healthz', { signal: AbortSignal.timeout(3000) }).then((r) => { if (!r.ok) throw new Error(String(r.status)); }))).then(() => process.exit(0), () => process.exit(1));"]
# "compiled" selects each workspace package's dist/ in its package.json "exports" (the default
# there is the TypeScript source, for tsx and vitest).
ENTRYPOINT ["node", "--conditions=compiled", "--enable-source-maps"]
CMD ["packages/ingest/dist/main.js"]
