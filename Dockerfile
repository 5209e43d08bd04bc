# Container image of the orderstream daemon: built on Debian 12, shipped on debian:12-slim with
# the binary and only the shared libraries it links. Used by deploy/docker-compose.yml.
#
#   docker build -t orderstream .
#   (behind a proxy that intercepts TLS, hand the build its CA: --secret id=extra-ca,src=PEM_FILE)
#   docker run --init -e ORDERSTREAM_TOKEN=$(openssl rand -hex 24) -p 8080:8080 orderstream \
#     run --listen 0.0.0.0:8080 --bootstrap-servers broker1:9092,broker2:9092

FROM debian:12 AS build
RUN apt-get update \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
      build-essential cmake ninja-build pkg-config \
      librdkafka-dev libboost-dev libboost-filesystem-dev libboost-system-dev \
      nlohmann-json3-dev libspdlog-dev catch2 libcli11-dev libtomlplusplus-dev libsystemd-dev zlib1g-dev \
      ccache nodejs npm \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /src
# The page's chart library is embedded from web/node_modules, pinned by web/package-lock.json;
# installed first so this layer is reused while only the sources change. The optional secret
# `extra-ca` (PEM) is a CA that npm must trust on this network; it never reaches a layer.
COPY web/package.json web/package-lock.json web/
RUN --mount=type=secret,id=extra-ca \
    if [ -s /run/secrets/extra-ca ]; then export NODE_EXTRA_CA_CERTS=/run/secrets/extra-ca; fi \
 && npm ci --prefix web --omit=dev --no-audit --no-fund
COPY . .
# ccache in a cache mount (at most 1 GB), kept by the builder between builds: a change to one
# source file recompiles that file, not the whole daemon. Only the binary stays in the layer.
RUN --mount=type=cache,id=orderstream-ccache,target=/root/.cache/ccache \
    export CCACHE_MAXSIZE=1G \
 && cmake -S . -B /tmp/build -G Ninja -DCMAKE_BUILD_TYPE=Release -DBUILD_TESTING=OFF \
      -DCMAKE_CXX_COMPILER_LAUNCHER=ccache -DCMAKE_C_COMPILER_LAUNCHER=ccache \
 && cmake --build /tmp/build --target orderstream \
 && install -D --strip /tmp/build/daemon/orderstream /out/orderstream \
 && rm -rf /tmp/build

FROM debian:12-slim
# Runtime libraries as Debian packages rather than a copied `ldd` closure: apt pulls in their own
# dependencies (OpenSSL, SASL, zstd, lz4 for librdkafka), and `apt-get upgrade` or a rebuild picks
# up security fixes. This list is exactly what `ldd orderstream` resolves to on Debian 12
# (Boost.System is header-only since 1.69, so it is not here); the check below fails the build
# if it ever drifts. curl is only for the HEALTHCHECK.
RUN apt-get update \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
      librdkafka++1 librdkafka1 libboost-filesystem1.74.0 libspdlog1.10 libfmt9 \
      libtomlplusplus3 libsystemd0 zlib1g ca-certificates curl \
 && rm -rf /var/lib/apt/lists/* \
 && useradd --system --uid 10001 --user-group --create-home --home-dir /var/lib/orderstream \
      --shell /usr/sbin/nologin orderstream

COPY --from=build /out/orderstream /usr/local/bin/orderstream
RUN if ldd /usr/local/bin/orderstream | grep 'not found'; then exit 1; fi \
 && orderstream --version

USER orderstream
WORKDIR /var/lib/orderstream
EXPOSE 8080
# /healthz needs no token. It assumes the default port; change both if you change --listen.
HEALTHCHECK --interval=10s --timeout=3s --start-period=10s --retries=3 \
  CMD curl -fsS http://127.0.0.1:8080/healthz || exit 1
# The daemon is a supervisor: run it with `docker run --init` (compose: `init: true`) so that a
# reaper is PID 1 for grandchildren a supervised program leaves behind.
ENTRYPOINT ["orderstream"]
# Listening beyond loopback needs ORDERSTREAM_TOKEN (the daemon refuses to start without one).
CMD ["run", "--listen", "0.0.0.0:8080"]
