# One image for migrate, api and worker: the TypeScript sources run with tsx (no build step).
FROM node:20-slim
WORKDIR /app
ENV NODE_ENV=production
COPY package.json package-lock.json ./
COPY packages/journeys/package.json packages/journeys/
COPY packages/fake-telegram/package.json packages/fake-telegram/
COPY apps/api/package.json apps/api/
COPY apps/worker/package.json apps/worker/
RUN npm ci --no-audit --no-fund
COPY . .
USER node
CMD ["npm", "run", "start:api"]
