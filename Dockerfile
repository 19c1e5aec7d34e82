# Build stage: runs on the build machine's own platform and cross-compiles for the target
# platform, so a multi-platform build (linux/amd64, linux/arm64) never emulates the compiler.
FROM --platform=$BUILDPLATFORM rust:1.95-slim-bookworm AS builder
ARG BUILDARCH
ARG TARGETARCH

# The Rust standard library for the target, and for a foreign target Debian's cross gcc
# and glibc (the static libc.a the binary links). Package versions follow the base image's
# Debian release (bookworm, glibc 2.36, as on the CI machine); Dependabot keeps it current.
# hadolint ignore=DL3008
RUN set -eu; \
    case "$TARGETARCH" in \
      amd64) triple=x86_64-unknown-linux-gnu; gcc="gcc-x86-64-linux-gnu"; libc="libc6-dev-amd64-cross" ;; \
      arm64) triple=aarch64-unknown-linux-gnu; gcc="gcc-aarch64-linux-gnu"; libc="libc6-dev-arm64-cross" ;; \
      *) echo "unsupported TARGETARCH '$TARGETARCH' (amd64 or arm64)" >&2; exit 1 ;; \
    esac; \
    set -- ca-certificates; \
    if [ "$TARGETARCH" != "$BUILDARCH" ]; then set -- "$@" "$gcc" "$libc"; fi; \
    apt-get update; \
    apt-get install -y --no-install-recommends "$@"; \
    rm -rf /var/lib/apt/lists/*; \
    rustup target add "$triple"; \
    echo "$triple" >/target-triple

WORKDIR /build
# The workspace lists crates/fake-github as a member, so its manifest (and sources, for
# target discovery) must be present for cargo to resolve it, even though only the
# package-janitor binary is built.
COPY Cargo.toml Cargo.lock ./
COPY crates ./crates
COPY src ./src
COPY scripts/build-static ./scripts/build-static

# The git commit `--version` prints; the release and CI workflows pass it. Like every
# ARG, it is in the environment of the RUN below, where cargo compiles it in.
ARG PACKAGE_JANITOR_COMMIT=""
# scripts/build-static is the one cargo command, shared with .ci/run: a fully static
# release binary (static glibc) for the target.
RUN binary="$(scripts/build-static "$(cat /target-triple)")" \
    && cp "$binary" /package-janitor

# Runtime stage: the static binary and the CA bundle, nothing else (no shell, no libc).
FROM scratch
COPY --from=builder /etc/ssl/certs/ca-certificates.crt /etc/ssl/certs/ca-certificates.crt
COPY --from=builder /package-janitor /usr/local/bin/package-janitor
# rustls reads this one bundle instead of probing for a certificate directory.
ENV SSL_CERT_FILE=/etc/ssl/certs/ca-certificates.crt

# No USER line on purpose: GitHub runs Docker actions as root so the binary can write the
# runner's file commands (GITHUB_OUTPUT, GITHUB_STEP_SUMMARY).
ENTRYPOINT ["/usr/local/bin/package-janitor"]
