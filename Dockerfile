# Portcullis image: one image, the service chosen by argument (`run edge`, `run relay`, ...).
# Multi-stage: dependencies and the TypeScript build in the first stages; the final
# image has Node 24 and the compiled gateway only (no npm, no compiler, no shell),
# runs as a non-root user and needs no writable root filesystem (the chart mounts
# emptyDirs at /tmp and /app/var).
#
#   docker build -t portcullis:0.1.0 .
#
# Where no Docker engine or base-image registry is reachable, scripts/image.sh builds
# the same layout with buildah from scratch (`make image`).
ARG NODE_IMAGE=node:24-bookworm-slim
ARG RUNTIME_IMAGE=gcr.io/distroless/nodejs24-debian12:nonroot

FROM ${NODE_IMAGE} AS build
WORKDIR /src
COPY package.json package-lock.json tsconfig.json tsconfig.base.json ./
COPY libs libs
COPY services services
COPY apps apps
COPY test test
RUN npm ci --no-audit --no-fund && npx tsc --build

# Production dependencies only, for the packages the CLI needs (not the tests').
FROM ${NODE_IMAGE} AS deps
WORKDIR /app
COPY --from=build /src/package.json /src/package-lock.json ./
COPY --from=build /src/libs libs
COPY --from=build /src/services services
COPY --from=build /src/apps apps
RUN node -e 'const p=require("./package.json");p.workspaces=p.workspaces.filter(w=>w!=="test");require("fs").writeFileSync("package.json",JSON.stringify(p,null,2))' \
 && npm ci --omit=dev --no-audit --no-fund \
 && find libs services apps -maxdepth 2 \( -name src -o -name test -o -name '*.tsbuildinfo' -o -name tsconfig.json \) -prune -exec rm -rf {} + \
 && find libs services apps -path '*/dist/test' -prune -exec rm -rf {} +

FROM ${RUNTIME_IMAGE}
WORKDIR /app
COPY --from=deps --chown=0:0 /app /app
USER 10001:10001
ENV NODE_ENV=production
EXPOSE 2525 2587 2465 8025
ENTRYPOINT ["/nodejs/bin/node", "/app/apps/portcullis/dist/src/portcullis.js"]
CMD ["run", "all", "--config", "/etc/portcullis/config/portcullis.yaml"]
