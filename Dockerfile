# Multi-stage build: Swift toolchain to build, slim Debian with libhiredis to run.
FROM swift:6.2-bookworm AS build
RUN apt-get update && apt-get install -y --no-install-recommends libhiredis-dev zlib1g-dev pkg-config && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY Package.swift ./
COPY Sources ./Sources
COPY Tests ./Tests
RUN swift build -c release --product booxi-tracking --static-swift-stdlib \
    && mkdir /out \
    && cp "$(swift build -c release --show-bin-path)/booxi-tracking" /out/ \
    && cp -r "$(swift build -c release --show-bin-path)/booxi-tracking_ReadAPI.resources" /out/ \
    && cp -r "$(swift build -c release --show-bin-path)/booxi-tracking_Console.resources" /out/

FROM debian:bookworm-slim
RUN apt-get update && apt-get install -y --no-install-recommends libhiredis0.14 ca-certificates curl \
    && rm -rf /var/lib/apt/lists/*
WORKDIR /app
COPY --from=build /out/ /app/
COPY config /app/config
USER nobody
ENTRYPOINT ["/app/booxi-tracking"]
CMD ["--help"]
