# evq image for docker-compose.yml. Node.js 24 runs the TypeScript sources directly.
FROM node:24-slim
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --no-audit --no-fund
COPY src ./src
COPY schema ./schema
ENV EVQ_HOST=0.0.0.0 EVQ_DATA_DIR=/data NODE_ENV=production
VOLUME /data
EXPOSE 8080
USER node
CMD ["node", "src/main.ts", "serve"]
