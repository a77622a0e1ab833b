# The DreamNet platform image: one image, three roles (api, builder, proxy) chosen by the command.
#   docker build -t dreamnet/platform .                                   # official base image
#   npx tsx scripts/selfhost-image.ts                                      # local / air-gapped base
# BASE_IMAGE must be Debian bookworm with node 20 and npm (node:20-bookworm-slim or scripts/base-images.ts).
ARG BASE_IMAGE=node:20-bookworm-slim
# The build stage also needs node's C headers at /usr/local/include/node (official node images have
# them; scripts/selfhost-image.ts adds them to a local base that lacks them).
ARG BUILD_IMAGE=node:20-bookworm-slim

# ---- build: all dependencies (better-sqlite3 compiles from source), then pruned to production ----
FROM ${BUILD_IMAGE} AS build
# node-gyp compiles better-sqlite3 and the proxy's addon (apps/proxy/native) against the local
# headers instead of downloading them.
ENV npm_config_nodedir=/usr/local
RUN apt-get update -qq \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends python3 make g++ ca-certificates >/dev/null \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /app
COPY package.json package-lock.json ./
COPY apps/api/package.json apps/api/
COPY apps/builder/package.json apps/builder/
COPY apps/cli/package.json apps/cli/
COPY apps/proxy/package.json apps/proxy/binding.gyp apps/proxy/
COPY apps/proxy/native apps/proxy/native
COPY packages/core/package.json packages/core/
COPY packages/targets/package.json packages/targets/
# `npm install`, not `npm ci`: the committed lock lacks the entries of other platforms' optional
# packages (rollup's), which `npm ci` rejects; install still takes every version the lock pins.
RUN npm install --no-audit --no-fund
COPY scripts/selfhost-keep-deps.mjs scripts/
# Dev tooling (vitest, typescript, @types) is pruned, but tsx and its closure (esbuild) are kept
# although package.json lists tsx for development: the build bundles with esbuild below, and the
# `dream` CLI and the upgrade pre-flight (scripts/selfhost-preflight.ts) run through tsx.
RUN cp -a node_modules /tmp/full \
 && npm prune --omit=dev --no-audit --no-fund \
 && node scripts/selfhost-keep-deps.mjs /tmp/full node_modules tsx \
 && rm -rf /tmp/full
COPY apps apps
COPY packages packages
COPY scripts scripts
COPY tsconfig.json ./
# Tests are not part of the image. Each role is bundled into apps/<role>/src/main.mjs (workspace
# TypeScript compiled in, npm packages external) so it runs on plain node: no tsx loader and no
# esbuild service process in memory. tsx stays installed for the `dream` CLI and scripts.
RUN find apps packages -name '*.test.ts' -delete \
 && node scripts/selfhost-bundle.mjs

# ---- final: production dependencies, git (smart-HTTP), non-root user ----
FROM ${BASE_IMAGE}
RUN apt-get update -qq \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends git ca-certificates >/dev/null \
 && rm -rf /var/lib/apt/lists/* \
 && (getent group dream || groupadd -g 10001 dream) \
 && (getent passwd dream || useradd -u 10001 -g dream -d /var/lib/dream -M -s /usr/sbin/nologin dream) \
 && mkdir -p /var/lib/dream/tls && chown -R dream:dream /var/lib/dream && chmod 0700 /var/lib/dream
WORKDIR /app
COPY --from=build /app /app
# Declared late so a new version string rebuilds only the layers below (seconds).
ARG DREAM_VERSION=dev
ENV NODE_ENV=production \
    DREAM_VERSION=${DREAM_VERSION} \
    DREAM_DATA_DIR=/var/lib/dream \
    DREAM_API_HOST=0.0.0.0 \
    DREAM_BUILDER_HOST=0.0.0.0 \
    DREAM_HTTP_PORT=8080 \
    DREAM_HTTPS_PORT=8443 \
    PATH=/app/apps/cli/bin:$PATH
LABEL org.opencontainers.image.title="DreamNet Platform" org.opencontainers.image.version="${DREAM_VERSION}"
# api + builder need the Docker socket: compose adds the socket's group (group_add) to this user.
# Outside compose the proxy defaults to 8080/8443; compose lets it bind 80/443 through the namespaced
# sysctl net.ipv4.ip_unprivileged_port_start, so no role needs root or NET_BIND_SERVICE.
USER dream
EXPOSE 7070 7071 8080 8443
# Which role runs is PID 1's command line; the check asks that role's own health endpoint.
HEALTHCHECK --interval=10s --timeout=3s --start-period=30s --retries=3 CMD ["node", "/app/scripts/selfhost-health.mjs"]
# The api's idle-memory flags, as in compose/docker-compose.yml (there with MALLOC_ARENA_MAX=2 too).
CMD ["node", "--max-semi-space-size=1", "--single-threaded", "apps/api/src/main.mjs"]
