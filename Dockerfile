# The image the Helm chart runs (install/chart/kovenant, `image.repository`/`image.tag`).
#   docker build -t REGISTRY/kovenant:0.1.0 . && docker push REGISTRY/kovenant:0.1.0
# The CLI runs its TypeScript sources through tsx, as `npx kovenant` does: no build
# step, and tsx's compile cache goes to /tmp (an emptyDir in the chart, whose root
# filesystem is read-only).
FROM node:20-bookworm-slim

WORKDIR /opt/kovenant
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --no-audit --no-fund && npm cache clean --force
COPY tsconfig.json ./
COPY bin ./bin
COPY src ./src

# The agent reads host files (/host/proc, Tetragon's export) that only root may read;
# the chart drops every capability.
ENTRYPOINT ["node", "/opt/kovenant/bin/kovenant.js"]
CMD ["run", "--config", "/etc/kovenant/config.yaml"]
