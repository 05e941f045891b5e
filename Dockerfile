# Production image of the beer-catalog API: one static-ish release binary on distroless, running as nonroot.
#
#   docker build -t beer-catalog \
#     --build-arg VERSION=0.1.0 --build-arg REVISION="$(git rev-parse HEAD)" \
#     --build-arg CREATED="$(date -u +%Y-%m-%dT%H:%M:%SZ)" .
#   docker run --rm -p 8080:8080 beer-catalog      # demo mode: seeded SQLite in the /data volume
#
# Needs BuildKit (Docker >= 23 default) or podman/buildah >= 4 for the RUN cache mounts. docs/container.md has more.

# ---- base images, pinned by digest ----------------------------------------------------------------------------------
# A tag (rust:1.95.0-slim-bookworm, cc-debian12:nonroot) is re-pushed upstream with every Debian security update, so
# two builds of one commit could start from different bytes. The digest fixes them; the tag beside it says what it
# is. They are build ARGs only so scripts/container-test.sh can build this file unmodified on local stand-ins of these
# images (no registry there); every real build uses these defaults. Refresh both parts together, as
# docs/container.md#base-images-pinned-by-digest describes (`docker buildx imagetools inspect <name:tag>`).
# tests/container_contract.rs fails when a FROM is not pinned to a sha256 digest.
ARG BUILDER_IMAGE=docker.io/library/rust:1.95.0-slim-bookworm@sha256:d7482085ff5b415f84dba5647ae71606650bdef00db7aeb69f4b3d170c3e4082
ARG RUNTIME_IMAGE=gcr.io/distroless/cc-debian12:nonroot@sha256:9dac0a79194e45a7da0158a9c6da57b217585af0786db3845d1f0ec1a0dd182f

# ---- builder: official Rust image, pinned to the toolchain the project is tested with ----------------------------
FROM ${BUILDER_IMAGE} AS builder
WORKDIR /build

# Dependencies first, in their own layer: the real manifest and lockfile with stub sources. This layer is rebuilt
# only when Cargo.toml or Cargo.lock change, so a code-only change recompiles just this crate. It lives in the
# image layers (not only in a cache mount) so CI layer caches keep it too. The crate's own stub artifacts are
# deleted so the next step can never mistake them for fresh. The registry download cache is a cache mount.
COPY Cargo.toml Cargo.lock ./
RUN --mount=type=cache,target=/usr/local/cargo/registry,sharing=locked \
    mkdir -p src \
    && echo 'fn main() {}' >src/main.rs \
    && touch src/lib.rs \
    && cargo build --release --locked \
    && rm -rf src target/release/beer-catalog target/release/beer-catalog.d \
        target/release/.fingerprint/beer-catalog-* \
        target/release/deps/beer_catalog-* target/release/deps/libbeer_catalog-*

# The crate itself. Migrations and the seed catalog are embedded at compile time, so they are build inputs only.
COPY migrations ./migrations
COPY src ./src
RUN --mount=type=cache,target=/usr/local/cargo/registry,sharing=locked \
    cargo build --release --locked \
    && install -D -m 0755 target/release/beer-catalog /out/usr/local/bin/beer-catalog \
    && /out/usr/local/bin/beer-catalog --version \
    && install -d -m 0755 /out/data

# ---- runtime: distroless (glibc, libgcc, CA certificates; no shell, no package manager), uid/gid 65532 ---------------
FROM ${RUNTIME_IMAGE}

COPY --from=builder /out/usr/local/bin/beer-catalog /usr/local/bin/beer-catalog
# /data: the demo SQLite database (development mode, no database configured, uses ./beer-catalog.db). A volume
# owned by the runtime user, so it stays writable with a read-only root filesystem. Production (PostgreSQL)
# never touches it.
COPY --from=builder --chown=65532:65532 /out/data /data
WORKDIR /data
VOLUME ["/data"]

USER 65532:65532
# mimalloc (the binary's allocator) commits a whole arena when it reserves one by default on Linux: a server under
# load peaked at 45 MB instead of 25 (bench/run's paths, the Punk catalog). Read by mimalloc when the process starts,
# so it can only be set from outside the binary: here, and in bench/run and bench/scale, which run it as production
# does (docs/performance.md, "The fixed cost per request").
ENV MIMALLOC_ARENA_EAGER_COMMIT=0
EXPOSE 8080
STOPSIGNAL SIGTERM
HEALTHCHECK --interval=15s --timeout=5s --start-period=20s --retries=3 \
    CMD ["/usr/local/bin/beer-catalog", "healthcheck"]
ENTRYPOINT ["/usr/local/bin/beer-catalog"]
CMD ["serve"]

# Build metadata last: a new revision or build date then changes only these metadata steps.
ARG VERSION=unknown
ARG REVISION=unknown
ARG CREATED=unknown
ARG SOURCE=https://github.com/beer-catalog/beer-catalog
LABEL org.opencontainers.image.title="beer-catalog" \
      org.opencontainers.image.description="A beer catalog REST API, drop-in compatible with the Punk API v2" \
      org.opencontainers.image.licenses="MIT" \
      org.opencontainers.image.source="${SOURCE}" \
      org.opencontainers.image.version="${VERSION}" \
      org.opencontainers.image.revision="${REVISION}" \
      org.opencontainers.image.created="${CREATED}"
