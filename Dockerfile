# Built natively: the builder runs on the target platform (the release builds linux/arm64 on
# GitHub's arm64 runner, not cross-compiled), so the static binary links the target's own
# Debian glibc (libc6-dev, which gets bookworm's security updates) rather than a cross
# toolchain's. Elsewhere an arm64 build runs emulated, which is slow but links the same libc.
#
# The base image is pinned by digest (tag kept for Dependabot, which moves the digest when the
# tag is rebuilt). It already holds gcc, libc6-dev and ca-certificates: nothing is installed.
FROM rust:1.95-slim-bookworm@sha256:b8ecdb97c5b9c1ae058249f72710dbe33d4da19f7b8d911bd3c72e5f048af251 AS toolchain
ARG TARGETARCH
# The target triple, and what the release notes record about the build (glibc is the version
# of the libc.a the binary links).
RUN set -eu; \
    case "$TARGETARCH" in \
      amd64) triple=x86_64-unknown-linux-gnu ;; \
      arm64) triple=aarch64-unknown-linux-gnu ;; \
      *) echo "unsupported TARGETARCH '$TARGETARCH' (amd64 or arm64)" >&2; exit 1 ;; \
    esac; \
    host="$(rustc --print host-tuple)"; \
    if [ "$host" != "$triple" ]; then \
      echo "the $TARGETARCH builder runs on $host: build $TARGETARCH natively, not cross" >&2; exit 1; \
    fi; \
    echo "$triple" >/target-triple; \
    { \
      echo "target=$triple"; \
      echo "glibc=$(dpkg-query --showformat='${Version}' --show libc6-dev)"; \
      echo "rustc=$(rustc --version)"; \
    } >/build-info

FROM toolchain AS builder
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

# `--target build-info --output type=local,dest=DIR` exports the build facts without the
# binary; the workflows put them in the release notes.
FROM scratch AS build-info
COPY --from=toolchain /build-info /build-info

# Runtime stage (the default target, so it stays last): the static binary and the CA bundle,
# nothing else (no shell, no libc).
FROM scratch
COPY --from=toolchain /etc/ssl/certs/ca-certificates.crt /etc/ssl/certs/ca-certificates.crt
COPY --from=builder /package-janitor /usr/local/bin/package-janitor
# rustls reads this one bundle instead of probing for a certificate directory.
ENV SSL_CERT_FILE=/etc/ssl/certs/ca-certificates.crt

# No USER line on purpose: GitHub runs Docker actions as root so the binary can write the
# runner's file commands (GITHUB_OUTPUT, GITHUB_STEP_SUMMARY).
ENTRYPOINT ["/usr/local/bin/package-janitor"]
