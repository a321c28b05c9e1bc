#!/usr/bin/env bash
# Builds the binaries of a real, small Kubernetes cluster for Dockyard's tests, once,
# from Debian's own `kubernetes` source package (the full 1.20 tree with vendor/,
# which builds offline with Debian's Go), plus etcd from Debian's `etcd-server`.
#
# Result: ${DOCKYARD_KUBE_CACHE:-$HOME/.cache/dockyard-kube}/<debian source version>/bin/
#   kube-apiserver kube-controller-manager kube-scheduler kubemark kubectl etcd
# and <cache>/CURRENT naming that version (tests/kubernetes/cluster.py reads it).
#
# Idempotent: with the binaries in the cache it does nothing and exits 0 at once.
# The source tree and Go build cache live in <cache>/<version>/build while building;
# they are deleted after a successful build (about 4 GB) unless
# DOCKYARD_KUBE_KEEP_BUILD=1. A failed build keeps them, so a rerun resumes.
#
# Environment:
#   DOCKYARD_KUBE_CACHE       cache root (default $HOME/.cache/dockyard-kube)
#   DOCKYARD_KUBE_SUITE       Debian suite to take the source from (default: this
#                             machine's codename, then bullseye if that lacks it)
#   DOCKYARD_KUBE_KEEP_BUILD  1 keeps the source tree and Go cache after success
#   DOCKYARD_KUBE_FORCE       1 rebuilds even when the cache is complete
set -euo pipefail

CACHE_ROOT="${DOCKYARD_KUBE_CACHE:-$HOME/.cache/dockyard-kube}"
# Bumped whenever the patches or the binaries built change: a cache made by an older
# recipe is rebuilt.
RECIPE=2
KUBE_CMDS=(kube-apiserver kube-controller-manager kube-scheduler kubemark kubectl)
ALL_BINS=("${KUBE_CMDS[@]}" etcd)
SOURCES_FILE=/etc/apt/sources.list.d/dockyard-kube-src.sources

STEP="starting"
say() { printf '[kube-test-cluster] %s\n' "$*"; }
step() { STEP="$*"; say "==> $*"; }
die() {
  printf '[kube-test-cluster] FAILED: %s\n' "$*" >&2
  exit 1
}
on_error() {
  local rc=$?
  printf '[kube-test-cluster] FAILED (exit %s) during step: %s\n' "$rc" "$STEP" >&2
  exit "$rc"
}
trap on_error ERR

complete_bin_dir() { # $1 = bin dir; true when every binary is there, built by this recipe
  local dir=$1 b
  grep -qx "recipe=$RECIPE" "$dir/.complete" 2>/dev/null || return 1
  for b in "${ALL_BINS[@]}"; do [ -x "$dir/$b" ] || return 1; done
}

# --- fast path: nothing to do -------------------------------------------------------
if [ "${DOCKYARD_KUBE_FORCE:-0}" != 1 ] && [ -f "$CACHE_ROOT/CURRENT" ]; then
  cached_version=$(cat "$CACHE_ROOT/CURRENT")
  if complete_bin_dir "$CACHE_ROOT/$cached_version/bin"; then
    say "up to date: Kubernetes $cached_version in $CACHE_ROOT/$cached_version/bin"
    exit 0
  fi
fi

# --- privileges for apt-get ---------------------------------------------------------
SUDO=()
if [ "$(id -u)" -ne 0 ]; then
  command -v sudo >/dev/null 2>&1 || die "apt-get needs root: run as root or install sudo"
  SUDO=(sudo)
fi
apt_get() { "${SUDO[@]}" env DEBIAN_FRONTEND=noninteractive apt-get "$@"; }

mkdir -p "$CACHE_ROOT"
exec 9>"$CACHE_ROOT/.lock"
step "taking the cache lock $CACHE_ROOT/.lock (another build may be running)"
flock 9

# --- the source package -------------------------------------------------------------
codename=$(. /etc/os-release && echo "${VERSION_CODENAME:-}")
[ -n "$codename" ] || die "cannot tell this machine's Debian codename from /etc/os-release"
source_version() { apt-cache madison kubernetes 2>/dev/null | awk '$NF == "Sources" {print $3; exit}'; }

add_deb_src() { # $1 = suite
  step "adding a deb-src entry for Debian $1 ($SOURCES_FILE) and running apt-get update"
  printf '%s\n' \
    "# Added by Dockyard's scripts/kube-test-cluster/build.sh for the kubernetes source." \
    "Types: deb-src" \
    "URIs: http://deb.debian.org/debian" \
    "Suites: $1" \
    "Components: main" \
    "Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg" |
    "${SUDO[@]}" tee "$SOURCES_FILE" >/dev/null
  if ! apt_get update -q; then
    "${SUDO[@]}" rm -f "$SOURCES_FILE" # leave apt as it was, not broken
    die "apt-get update failed with the deb-src entry for $1 (is deb.debian.org reachable?)"
  fi
}

suite="${DOCKYARD_KUBE_SUITE:-$codename}"
add_deb_src "$suite"
version=$(source_version)
if [ -z "$version" ] && [ -z "${DOCKYARD_KUBE_SUITE:-}" ] && [ "$suite" != bullseye ]; then
  say "Debian $suite carries no kubernetes source package; trying bullseye"
  suite=bullseye
  add_deb_src "$suite"
  version=$(source_version)
fi
[ -n "$version" ] || die "no 'kubernetes' source package found in Debian $suite"
say "Debian source package: kubernetes $version (suite $suite)"

VDIR="$CACHE_ROOT/$version"
BIN="$VDIR/bin"
BUILD="$VDIR/build"
if [ "${DOCKYARD_KUBE_FORCE:-0}" != 1 ] && complete_bin_dir "$BIN"; then
  echo "$version" >"$CACHE_ROOT/CURRENT"
  say "up to date: Kubernetes $version in $BIN"
  exit 0
fi

# --- toolchain and build dependencies -----------------------------------------------
step "installing build dependencies (apt-get build-dep kubernetes=$version: Go, debhelper, jq, rsync)"
apt_get install -y -q --no-install-recommends dpkg-dev openssl >/dev/null
apt_get build-dep -y -q --no-install-recommends "kubernetes=$version" >/dev/null ||
  die "apt-get build-dep kubernetes=$version failed"

# Debian's rules put /usr/lib/go/bin first; a versioned golang-1.NN-go (bullseye's
# golang-1.15-go) lives in /usr/lib/go-1.NN/bin.
go_dir=""
for d in /usr/lib/go/bin $(ls -d /usr/lib/go-1.*/bin 2>/dev/null | sort -V -r); do
  if [ -x "$d/go" ]; then go_dir=$d; break; fi
done
[ -n "$go_dir" ] || die "no Go toolchain found after build-dep (looked in /usr/lib/go*/bin)"
export PATH="$go_dir:$PATH"
say "Go toolchain: $(go version)"

# --- etcd: taken out of Debian's etcd-server package without installing it, so that no
# system etcd service is started on this machine; the tests start their own.
step "fetching etcd from Debian's etcd-server package"
mkdir -p "$BUILD"
etcd_tmp="$BUILD/etcd-deb"
rm -rf "$etcd_tmp" && mkdir -p "$etcd_tmp"
(cd "$etcd_tmp" && apt-get download -q -o APT::Sandbox::User=root etcd-server >/dev/null) || die "apt-get download etcd-server failed"
dpkg-deb -x "$etcd_tmp"/etcd-server_*.deb "$etcd_tmp/root"
[ -x "$etcd_tmp/root/usr/bin/etcd" ] || die "etcd-server package has no usr/bin/etcd"
etcd_version=$(basename "$etcd_tmp"/etcd-server_*.deb .deb | cut -d_ -f2)
say "etcd-server $etcd_version"

# --- the source tree ----------------------------------------------------------------
SRC="$BUILD/src"
if [ ! -f "$SRC/.unpacked" ]; then
  step "fetching and unpacking the Debian source (apt-get source kubernetes=$version)"
  rm -rf "$SRC" "$BUILD/dl" && mkdir -p "$BUILD/dl"
  (cd "$BUILD/dl" && apt-get source -q --download-only -o APT::Sandbox::User=root "kubernetes=$version" >/dev/null) ||
    die "apt-get source kubernetes=$version failed"
  # apt checked the files against the signed Sources index; the .dsc's own signature
  # needs debian-keyring, which is not worth installing for this.
  dpkg-source -q --no-check -x "$BUILD"/dl/kubernetes_*.dsc "$SRC" >/dev/null ||
    die "dpkg-source could not unpack the kubernetes source"
  rm -rf "$BUILD/dl" "$BUILD"/kubernetes_* # dpkg-source leaves a copy of the orig tarball
  touch "$SRC/.unpacked"
else
  say "source tree already unpacked in $SRC (resuming)"
fi

# --- three small patches for hollow nodes on a shared test machine ------------------
# 1. The hollow kubelet binds its server to 0.0.0.0; the tests use loopback only.
# 2. The fake container runtime listens on the fixed socket /tmp/kubelet_remote.sock, so
#    two test clusters on one machine would fight over it: take it from $TMPDIR instead.
# 3. The hollow kubelet's root dir goes to /tmp whatever $TMPDIR says: honour $TMPDIR, so
#    that everything of a test cluster stays in its own folder (cluster.py sets TMPDIR).
# Each is applied once (a patched file no longer matches its pattern).
patch_file() { # $1 file, $2 pattern present only before patching, $3.. sed expressions
  local file=$1 before=$2
  shift 2
  [ -f "$file" ] || die "cannot patch $file: no such file"
  if grep -q "$before" "$file"; then
    say "patching ${file#"$SRC"/}"
    sed -i "$@" "$file"
    if grep -q "$before" "$file"; then die "patching $file did not take"; fi
  fi
}
step "patching the hollow kubelet: loopback bind address, fake runtime socket and root dir in \$TMPDIR"
patch_file "$SRC/pkg/kubemark/hollow_kubelet.go" 'c.Address = "0.0.0.0"' \
  -e 's|c.Address = "0.0.0.0"|c.Address = "127.0.0.1"|'
patch_file "$SRC/pkg/kubelet/cri/remote/fake/endpoint.go" 'return defaultUnixEndpoint, nil' \
  -e 's|^package fake$|package fake\n\nimport (\n\t"os"\n\t"path/filepath"\n)|' \
  -e 's|return defaultUnixEndpoint, nil|return "unix://" + filepath.Join(os.TempDir(), "kubelet_remote.sock"), nil|'
patch_file "$SRC/test/utils/tmpdir.go" 'baseDir = "/tmp"' \
  -e 's|^import (|import (\n\t"os"|' \
  -e 's|baseDir = "/tmp"|baseDir = os.TempDir()|'

# --- the build ----------------------------------------------------------------------
# The tree's own hack/ scripts build in GOPATH mode with vendor/, a GOPATH and GOCACHE
# under _output/ (so everything stays inside the build dir); cgo off as debian/rules has it.
export CGO_ENABLED=0
unset GOFLAGS GOPATH GOCACHE GO111MODULE
step "building ${KUBE_CMDS[*]} (about 10 minutes on 2 cores; output in $BUILD/make.log)"
started=$(date +%s)
whats=()
for c in "${KUBE_CMDS[@]}"; do whats+=("cmd/$c"); done
if ! (cd "$SRC" && make WHAT="${whats[*]}") >"$BUILD/make.log" 2>&1; then
  tail -n 40 "$BUILD/make.log" >&2
  die "make WHAT='${whats[*]}' failed; full log in $BUILD/make.log"
fi
say "built in $(($(date +%s) - started)) s; build dir uses $(du -sh "$BUILD" | cut -f1)"

step "installing the binaries into $BIN"
rm -rf "$BIN.new" && mkdir -p "$BIN.new"
for c in "${KUBE_CMDS[@]}"; do
  [ -x "$SRC/_output/bin/$c" ] || die "the build produced no $c"
  cp "$SRC/_output/bin/$c" "$BIN.new/"
done
cp "$etcd_tmp/root/usr/bin/etcd" "$BIN.new/"
{
  echo "kubernetes_source=$version"
  echo "suite=$suite"
  echo "go=$(go version)"
  echo "etcd_server=$etcd_version"
  echo "built=$(date -u +%Y-%m-%dT%H:%M:%SZ)"
  echo "recipe=$RECIPE"
} >"$BIN.new/VERSIONS"
echo "recipe=$RECIPE" >"$BIN.new/.complete"
rm -rf "$BIN" && mv "$BIN.new" "$BIN"
echo "$version" >"$CACHE_ROOT/CURRENT"

if [ "${DOCKYARD_KUBE_KEEP_BUILD:-0}" = 1 ]; then
  say "keeping the build dir $BUILD (DOCKYARD_KUBE_KEEP_BUILD=1)"
else
  step "deleting the build dir $BUILD to free disk (DOCKYARD_KUBE_KEEP_BUILD=1 keeps it)"
  chmod -R u+w "$BUILD" 2>/dev/null || true
  rm -rf "$BUILD"
fi
say "done: $(tr '\n' ' ' <"$BIN/VERSIONS")"
say "binaries in $BIN"
