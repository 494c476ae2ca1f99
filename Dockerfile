# Build stage: the Rust toolchain, plus what the bundled PostgreSQL client links (OpenSSL).
FROM rust:1-bookworm AS build
RUN apt-get update \
    && apt-get install -y --no-install-recommends libssl-dev pkg-config \
    && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY Cargo.toml Cargo.lock build.rs ./
COPY src ./src
COPY migrations ./migrations
COPY data/seed ./data/seed
RUN cargo build --release --locked && strip target/release/portal-api

# Run stage: the binary alone; SQLite and libpq are compiled in.
FROM debian:bookworm-slim
RUN apt-get update \
    && apt-get install -y --no-install-recommends libssl3 ca-certificates \
    && rm -rf /var/lib/apt/lists/* \
    && useradd --system --home-dir /var/lib/portal --create-home portal
COPY --from=build /src/target/release/portal-api /usr/local/bin/portal-api
USER portal
WORKDIR /var/lib/portal
ENV PORTAL_ADDR=0.0.0.0:8080 \
    DATABASE_URL=sqlite:///var/lib/portal/data/portal.db
EXPOSE 8080
HEALTHCHECK --interval=10s --timeout=5s --start-period=20s --retries=3 \
    CMD ["portal-api", "healthcheck"]
ENTRYPOINT ["portal-api"]
CMD ["serve"]
