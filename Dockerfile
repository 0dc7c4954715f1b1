# The image the Helm chart runs (install/chart/kovenant, `image.repository`/`image.tag`).
#   docker build -t REGISTRY/kovenant:0.1.0 . && docker push REGISTRY/kovenant:0.1.0
# Two stages: the build stage bundles the TypeScript sources with the dev dependencies
# (esbuild, build.mjs) and records V8's code cache of the bundle from a replay and a
# daemon run of the bundled example (examples/); the image carries only the production
# dependencies (the packages build.mjs leaves external) and dist/, so no compiler runs at
# start-up. Both stages are the same node image: V8 takes the cache only from its own
# version.
FROM node:20-bookworm-slim AS build

WORKDIR /opt/kovenant
COPY package.json package-lock.json ./
# --ignore-scripts: `prepare` (the build) needs the sources, copied below.
RUN npm ci --ignore-scripts --no-audit --no-fund
COPY tsconfig.json build.mjs ./
COPY src ./src
COPY examples ./examples
RUN npm run build

FROM node:20-bookworm-slim

WORKDIR /opt/kovenant
COPY package.json package-lock.json ./
# --ignore-scripts: `prepare` would run the build, whose esbuild is a dev dependency; dist/ comes from
# the build stage. No production dependency has an install script.
RUN npm ci --omit=dev --ignore-scripts --no-audit --no-fund && npm cache clean --force
COPY bin/kovenant.js ./bin/kovenant.js
COPY --from=build /opt/kovenant/dist ./dist
# The agent's own Node binary, at a path of its own: the TracingPolicies exclude
# /opt/kovenant/bin/kovenant-node (matchBinaries NotIn), so the agent's reads of /proc and
# its writes to InfluxDB do not feed back into the events it counts. A copy, not a symlink:
# Tetragon matches the executed binary's path.
RUN cp /usr/local/bin/node /opt/kovenant/bin/kovenant-node

# The agent reads host files (/host/proc, Tetragon's export) that only root may read;
# the chart drops every capability.
# --v8-pool-size=1: one V8 background thread, as bin/kovenant.js's shebang gives a 2-core
# machine; the chart's CPU limit is one core, and a container sees all of its node's CPUs.
ENTRYPOINT ["/opt/kovenant/bin/kovenant-node", "--v8-pool-size=1", "/opt/kovenant/bin/kovenant.js"]
CMD ["run", "--config", "/etc/kovenant/config.yaml"]
