# Playdeck's container image: Debian's own Python 3 in a virtual environment, run as an
# unprivileged user, everything it keeps under the /data volume.
#
#   docker build -t playdeck .
#   docker run -p 8001:8001 -v playdeck-data:/data playdeck
#
# Configuration is the usual PLAYDECK_* environment (see README.md); docs/operations.md has
# the compose file, several instances behind a proxy, and how CI builds and runs this image.

FROM debian:bookworm-slim AS build
ENV DEBIAN_FRONTEND=noninteractive PIP_DISABLE_PIP_VERSION_CHECK=1 PIP_NO_CACHE_DIR=1
# Only for building behind a package mirror or a TLS-inspecting proxy, e.g.
#   --build-arg PIP_CERT=/etc/ssl/certs/ca-certificates.crt -v /etc/ssl/certs:/etc/ssl/certs:ro
# Unset, pip uses PyPI and the image's own CA certificates.
ARG PIP_INDEX_URL
ARG PIP_CERT
RUN apt-get update \
 && apt-get install -y --no-install-recommends python3 python3-venv ca-certificates \
 && rm -rf /var/lib/apt/lists/*
RUN python3 -m venv /opt/playdeck
COPY pyproject.toml README.md LICENSE /src/
COPY src /src/src
RUN /opt/playdeck/bin/pip install /src \
 && /opt/playdeck/bin/pip uninstall -y pip \
 && /opt/playdeck/bin/playdeck --version

FROM debian:bookworm-slim
ENV DEBIAN_FRONTEND=noninteractive
RUN apt-get update \
 && apt-get install -y --no-install-recommends python3 ca-certificates \
 && rm -rf /var/lib/apt/lists/* \
 && useradd --system --uid 10001 --user-group --home-dir /data --no-create-home \
      --shell /usr/sbin/nologin playdeck \
 && mkdir /data && chown playdeck:playdeck /data
COPY --from=build /opt/playdeck /opt/playdeck
COPY LICENSE /usr/share/doc/playdeck/LICENSE
ENV PATH=/opt/playdeck/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    PLAYDECK_DATA_DIR=/data \
    PLAYDECK_PORT=8001
USER playdeck
WORKDIR /data
VOLUME ["/data"]
EXPOSE 8001
# No curl in a slim image: the image's own Python asks /healthz (PLAYDECK_PORT may be changed).
HEALTHCHECK --interval=30s --timeout=5s --start-period=30s --retries=3 \
  CMD ["python3", "-c", "import os, urllib.request; urllib.request.urlopen('http://127.0.0.1:%s/healthz' % os.environ.get('PLAYDECK_PORT', '8001'), timeout=4)"]
ENTRYPOINT ["playdeck"]
CMD ["serve", "--host", "0.0.0.0"]
