# Sluice service image: the CLI is compiled in a build stage; the image keeps production dependencies only.
FROM node:20-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
# The sources are not copied yet, so the prepare script (the build) runs below instead.
RUN npm ci --no-audit --no-fund --ignore-scripts
COPY . .
RUN npm run build && npm prune --omit=dev

FROM node:20-bookworm-slim
WORKDIR /app
COPY --from=build /app /app
ENV NODE_ENV=production PORT=8080
EXPOSE 8080
USER node
CMD ["node", "bin/sluice.js", "start"]
