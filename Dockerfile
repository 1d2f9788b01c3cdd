# syntax=docker/dockerfile:1
# Multi-stage build on Node.js 24 LTS (the newest LTS line the project is tested on). The runtime
# image holds the compiled server, its migrations and its production dependencies only — no Prisma
# CLI or Studio, no TypeScript, no tsx — and runs as the non-root `node` user.
# Without DATABASE_URL it runs on the embedded database in the /data volume: one replica, for a
# trial. Production: DATABASE_URL (and JWT_JWKS_URL or JWT_ISSUERS, which NODE_ENV=production requires).

FROM node:24-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
COPY scripts ./scripts
COPY prisma ./prisma
COPY prisma.config.ts ./
# postinstall generates the Prisma client (offline) into src/generated.
RUN npm ci --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY src ./src
RUN npm run build

# Production dependencies, installed apart from the build's. `--omit=optional` too: the Prisma CLI
# (which brings Studio, a development server and TypeScript) is a dev dependency that is also an
# optional peer of @prisma/client, so npm marks it devOptional and keeps it under --omit=dev alone.
# The only other optional package of the production tree is pg-cloudflare (Cloudflare Workers).
# No scripts: the generated client is already compiled into dist/.
FROM node:24-bookworm-slim AS dependencies
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --omit=optional --ignore-scripts --no-audit --no-fund

FROM node:24-bookworm-slim AS runtime
ENV NODE_ENV=production PORT=4000 HOST=0.0.0.0 DATA_DIR=/data
WORKDIR /app
COPY --from=dependencies /app/node_modules ./node_modules
COPY --from=build /app/package.json ./
COPY --from=build /app/dist ./dist
COPY prisma/migrations ./prisma/migrations
# Read at start: the operations PERSISTED_OPERATIONS_ONLY allows (and any client may send by hash).
COPY schema/persisted-operations.json ./schema/
# The package's `bin` entries on the PATH: `tenantgraph <command>` (the admin CLI) and
# `tenantgraph-migrate` (`npm run migrate`, e.g. as an init job with the owner's DIRECT_DATABASE_URL).
RUN chmod +x dist/cli/main.js dist/cli/migrate.js \
  && ln -s /app/dist/cli/main.js /usr/local/bin/tenantgraph \
  && ln -s /app/dist/cli/migrate.js /usr/local/bin/tenantgraph-migrate \
  && mkdir -p /data && chown node:node /data
USER node
# The embedded database and the development signing key, when DATABASE_URL / JWT_JWKS_URL (JWT_ISSUERS) are unset.
VOLUME ["/data"]
EXPOSE 4000
HEALTHCHECK --interval=15s --timeout=3s --start-period=20s --retries=3 \
  CMD node -e "fetch('http://127.0.0.1:'+(process.env.PORT||4000)+'/readyz').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"
CMD ["node", "dist/main.js"]
