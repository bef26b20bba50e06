#!/usr/bin/env bash
# Make `debian:bookworm-slim` available to buildah without an image registry: debootstrap a
# minimal Debian bookworm (from the mirror apt already uses), trim it like the official slim
# image, and import it. Cached twice: the image in buildah's storage, and the root file system
# tarball in $PLAYDECK_CONTAINER_CACHE (default ~/.cache/playdeck-container), so a second run
# costs nothing and a fresh buildah storage only re-imports.
#
# Used by tests/deploy/test_container.py and .ci/run; needs root, debootstrap and buildah.
set -euo pipefail

IMAGE="docker.io/library/debian:bookworm-slim"
CACHE="${PLAYDECK_CONTAINER_CACHE:-${HOME:-/root}/.cache/playdeck-container}"
TARBALL="$CACHE/debian-bookworm-minbase.tar"

if buildah inspect --type image "$IMAGE" >/dev/null 2>&1; then
  echo "$IMAGE is already in buildah's storage"
  exit 0
fi

mirror() {
  # The first Debian archive apt is configured with (deb822 or one-line sources).
  local uri
  uri="$(grep -hsE '^(URIs:|deb )' /etc/apt/sources.list.d/*.sources /etc/apt/sources.list.d/*.list /etc/apt/sources.list 2>/dev/null \
    | grep -v security | sed -E 's/^URIs:[[:space:]]*//; s/^deb[[:space:]]+(\[[^]]*\][[:space:]]+)?//' \
    | awk '{print $1}' | head -n1)"
  echo "${uri:-http://deb.debian.org/debian}"
}

if [ ! -s "$TARBALL" ]; then
  mkdir -p "$CACHE"
  rootfs="$(mktemp -d "$CACHE/rootfs.XXXXXX")"
  trap 'rm -rf "$rootfs"' EXIT
  echo "debootstrap bookworm from $(mirror)"
  debootstrap --variant=minbase bookworm "$rootfs" "$(mirror)" >"$CACHE/debootstrap.log" 2>&1 \
    || { tail -n 30 "$CACHE/debootstrap.log"; exit 1; }
  # What the official slim images leave out: documentation, man pages, translations, caches.
  cat >"$rootfs/etc/dpkg/dpkg.cfg.d/slim" <<'CFG'
path-exclude /usr/share/doc/*
path-include /usr/share/doc/*/copyright
path-exclude /usr/share/man/*
path-exclude /usr/share/info/*
path-exclude /usr/share/locale/*
CFG
  echo 'APT::Install-Recommends "false";' >"$rootfs/etc/apt/apt.conf.d/99no-recommends"
  find "$rootfs/usr/share/doc" -mindepth 2 ! -name copyright -delete 2>/dev/null || true
  rm -rf "$rootfs"/usr/share/man/* "$rootfs"/usr/share/info/* "$rootfs"/usr/share/locale/* \
    "$rootfs"/var/cache/apt/*.bin "$rootfs"/var/cache/apt/archives/*.deb \
    "$rootfs"/var/lib/apt/lists/* "$rootfs"/var/log/*.log
  tar --numeric-owner -C "$rootfs" -cf "$TARBALL.partial" .
  mv "$TARBALL.partial" "$TARBALL"
  rm -rf "$rootfs"
  trap - EXIT
fi

container="$(buildah from scratch)"
trap 'buildah rm "$container" >/dev/null 2>&1 || true' EXIT
buildah add "$container" "$TARBALL" / >/dev/null
buildah config --cmd '["bash"]' --env PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin "$container"
buildah commit --quiet "$container" "$IMAGE" >/dev/null
echo "imported $IMAGE"
