# One image for every service (migrate, api, worker, fake-telegram), each running `node dist/<name>.js`
# (docker-compose.yml gives the commands). `npm run test:image` does these steps without a container
# engine and starts the services from the result.

# Production dependencies only: what the services load at run time.
FROM node:20-slim AS deps
WORKDIR /app
COPY package.json package-lock.json ./
COPY packages/journeys/package.json packages/journeys/
COPY packages/fake-telegram/package.json packages/fake-telegram/
COPY apps/api/package.json apps/api/
COPY apps/worker/package.json apps/worker/
RUN npm ci --omit=dev --no-audit --no-fund

# The bundles: esbuild and the rest of the dev dependencies exist only in this stage.
FROM node:20-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
COPY packages/journeys/package.json packages/journeys/
COPY packages/fake-telegram/package.json packages/fake-telegram/
COPY apps/api/package.json apps/api/
COPY apps/worker/package.json apps/worker/
RUN npm ci --no-audit --no-fund
COPY . .
RUN npm run build

# What runs: the installed production dependencies (without npm's download cache) and dist/
# (the bundles and the migrations). No sources, no dev dependencies, not root.
FROM node:20-slim AS run
WORKDIR /app
# Also makes JWT_SECRET and BOT_TOKEN_ENCRYPTION_KEY required: their built-in defaults exist only
# with NODE_ENV=development.
ENV NODE_ENV=production
COPY --from=deps /app ./
COPY --from=build /app/dist ./dist
USER node
EXPOSE 3000
# The heap budget start:api and start:worker give (README, Memory).
CMD ["node", "--max-old-space-size=192", "dist/api.js"]
