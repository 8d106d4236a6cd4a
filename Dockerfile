# syntax=docker/dockerfile:1
# cutover itself, with the CLI as its entrypoint: the image `kubernetes.gatekeeper.image` names (the
# rendered Deployment runs `cutover gatekeeper --config /etc/cutover/cutover.yaml` from it), and one a CI
# job can run `cutover deploy` from.
#
#   docker build -t registry.example.com/cutover:0.1.0 .
#   docker run --rm registry.example.com/cutover:0.1.0 --help

FROM node:20-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
# No scripts: `prepare` would compile before the sources are here (the build below does it), and no
# runtime dependency needs an install script.
RUN npm ci --ignore-scripts
COPY tsconfig.json ./
COPY src ./src
RUN npm run build && npm prune --omit=dev --ignore-scripts

FROM node:20-slim
ENV NODE_ENV=production
WORKDIR /app
COPY --from=build /app/package.json ./
COPY --from=build /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
# The image's `node` user, by number so that Kubernetes' runAsNonRoot can check it.
USER 1000:1000
ENTRYPOINT ["node", "/app/dist/src/cli/main.js"]
CMD ["--help"]
