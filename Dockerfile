# MLog's image. The build stage installs every dependency, compiles MLog to JavaScript (`npm run
# build`: dist/, with the peggy grammars compiled to modules) and builds the console (web/, its own
# package: web/dist). The runtime stage holds production dependencies only, dist/, bin/,
# index-templates/ and web/dist, and runs `bin/mlog-server` (`node dist/main.js` with MLog's memory
# settings: docs/performance.md, "Memory under load"): no TypeScript loader, no sources.
# dist/ and web/dist sit at the same places as in the repository, so MLog finds index-templates/ and
# serves the console at /console/ on the admin listener.

FROM node:20-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY scripts ./scripts
COPY src ./src
RUN npm run build
COPY web/package.json web/package-lock.json ./web/
RUN cd web && npm ci --no-audit --no-fund
COPY web ./web
RUN cd web && npm run build

FROM node:20-bookworm-slim AS runtime
ENV NODE_ENV=production
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --no-audit --no-fund && npm cache clean --force
COPY bin ./bin
COPY index-templates ./index-templates
COPY --from=build /app/dist ./dist
COPY --from=build /app/web/dist ./web/dist
USER node
EXPOSE 8443 8081
CMD ["bin/mlog-server"]
