# syntax=docker/dockerfile:1
#
# One build, two images:
#
#   docker build --target operator -t bolide/operator:dev .   # the Kubernetes operator (port 8080)
#   docker build --target broker   -t bolide/broker:dev .     # `bolide namesrv | broker | standalone`
#
# Stages: base (node + tini) → deps (npm ci) → build (npm run build = tsc) → prod-deps (runtime
# node_modules only) → runtime (dist + prod deps, non-root) → operator | broker.
# test/docker/dockerfile.test.ts reads this file and runs the same entrypoints outside a container.

# Node 20 on Debian bookworm, pinned to an exact release (test/docker checks major 20, x.y.z tag).
ARG NODE_IMAGE=node:20.20.2-bookworm-slim

FROM ${NODE_IMAGE} AS base
# tini runs as PID 1: it forwards SIGTERM to node (whose handlers flush, checkpoint, unregister and
# exit 0) and reaps zombies. Node itself as PID 1 would ignore signals it has no handler for.
RUN apt-get update \
 && apt-get install -y --no-install-recommends tini \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /app

FROM base AS deps
COPY package.json package-lock.json ./
# All dependencies (typescript is a devDependency); no lifecycle scripts are needed to compile.
RUN npm ci --no-audit --no-fund --ignore-scripts

FROM deps AS build
COPY tsconfig.json tsconfig.build.json ./
COPY broker-image ./broker-image
COPY operator ./operator
RUN npm run build

FROM base AS prod-deps
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund --ignore-scripts --omit=dev \
 && npm cache clean --force

FROM base AS runtime
ENV NODE_ENV=production
COPY --from=prod-deps /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
COPY package.json ./
COPY bin ./bin
# `bolide` on PATH: the operator's pods run `bolide namesrv` and `sh -c '… exec bolide broker …'`.
# Config and data folders the broker pods mount; owned by the runtime user for `docker run` too.
RUN ln -s /app/bin/bolide.js /usr/local/bin/bolide \
 && mkdir -p /etc/bolide /var/lib/bolide \
 && chown 1000:1000 /var/lib/bolide
# The image's `node` user (uid/gid 1000), numeric so Kubernetes' runAsNonRoot can verify it.
USER 1000:1000

FROM runtime AS operator
EXPOSE 8080
ENTRYPOINT ["/usr/bin/tini", "--", "node", "/app/dist/operator/src/main.js"]

FROM runtime AS broker
# 9876 name server, 9877 name-server HTTP, 10911 broker, 10912 HA, 10913 broker HTTP.
EXPOSE 9876 9877 10911 10912 10913
ENTRYPOINT ["/usr/bin/tini", "--", "bolide"]
CMD ["standalone", "--data-dir", "/var/lib/bolide"]
