FROM node:20-bookworm-slim
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --no-audit --no-fund
COPY bin ./bin
COPY src ./src
COPY index-templates ./index-templates
COPY tsconfig.json ./
USER node
EXPOSE 8443 8081
CMD ["node", "--import", "tsx", "src/main.ts"]
