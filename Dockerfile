# syntax=docker/dockerfile:1
# whago: one image for every whago process (serve, work, migrate, the CLI). Built by compose.yaml;
# alone: docker build -t whago-jobs . && docker run --rm whago-jobs --help

# ---- build: the Swift toolchain and the C libraries' headers ----
# Some dependencies pinned in Package.resolved declare swift-tools-version 6.2.
ARG SWIFT_IMAGE=swift:6.2-bookworm
FROM ${SWIFT_IMAGE} AS build
RUN export DEBIAN_FRONTEND=noninteractive \
 && apt-get update -q \
 && apt-get install -y -q --no-install-recommends libhiredis-dev libpq-dev libcurl4-openssl-dev pkg-config \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /src
# Package.swift names the test targets too, so the whole tree (less .dockerignore) is needed.
COPY . .
# The Swift runtime and Foundation are linked in; migrations and openapi.yaml are embedded in code,
# so the binary needs only its C libraries and jobs/. .build is a cache kept between builds.
RUN --mount=type=cache,target=/src/.build \
    swift build -c release --product whago --static-swift-stdlib \
 && install -D -m 0755 "$(swift build -c release --show-bin-path)/whago" /out/whago

# ---- runtime: Debian slim with the C libraries whago links ----
FROM debian:bookworm-slim AS runtime
RUN export DEBIAN_FRONTEND=noninteractive \
 && apt-get update -q \
 && apt-get install -y -q --no-install-recommends \
      libhiredis0.14 libpq5 libcurl4 libstdc++6 ca-certificates curl tzdata \
 && rm -rf /var/lib/apt/lists/* \
 && useradd --system --uid 10001 --user-group --home-dir /app --shell /usr/sbin/nologin whago
COPY --from=build /out/whago /usr/local/bin/whago
COPY jobs/ /app/jobs/
WORKDIR /app
ENV WHAGO_JOBS_DIR=/app/jobs
USER whago:whago
EXPOSE 8080
ENTRYPOINT ["whago"]
CMD ["serve", "--host", "0.0.0.0", "--port", "8080"]
