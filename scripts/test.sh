#!/usr/bin/env bash
# The project's one test entry point (the README's test command; CI runs it through .ci/run).
# Installs the real servers the tests start, then runs format, lint, every test and the bench build.
set -euo pipefail
cd "$(dirname "$0")/.."

export CARGO_BUILD_JOBS="${CARGO_BUILD_JOBS:-2}"
export CARGO_TERM_COLOR="${CARGO_TERM_COLOR:-never}"
# A clean clone builds everything once: incremental state would only take disk (gigabytes over
# ~100 test binaries) and time.
export CARGO_INCREMENTAL="${CARGO_INCREMENTAL:-0}"

# Packages the tests need, by the binary that proves each is there.
declare -A needed=(
  [redis-server]=redis-server
  [redis-cli]=redis-tools
  [memcached]=memcached
  # components' browser test (tests/browser.rs): headless Chromium through chromedriver.
  [chromium]=chromium
  [chromedriver]=chromium-driver
)
missing=()
for binary in "${!needed[@]}"; do
  command -v "$binary" >/dev/null 2>&1 || missing+=("${needed[$binary]}")
done
# cache-db's tests make their own PostgreSQL cluster with Debian's server binaries, which live off
# PATH in /usr/lib/postgresql/<version>/bin.
compgen -G "/usr/lib/postgresql/*/bin/initdb" >/dev/null || missing+=(postgresql)
if [ ${#missing[@]} -gt 0 ]; then
  echo "==> installing ${missing[*]} (apt)"
  sudo_cmd=""
  [ "$(id -u)" -eq 0 ] || sudo_cmd="sudo"
  export DEBIAN_FRONTEND=noninteractive
  $sudo_cmd apt-get update -qq
  $sudo_cmd apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  # The tests start their own servers on free loopback ports; stop the ones the packages started.
  $sudo_cmd service redis-server stop >/dev/null 2>&1 || true
  $sudo_cmd service memcached stop >/dev/null 2>&1 || true
  $sudo_cmd service postgresql stop >/dev/null 2>&1 || true
fi

echo "==> cargo fmt --check"
cargo fmt --all -- --check

echo "==> cargo clippy"
cargo clippy --workspace --all-targets --all-features -- -D warnings

echo "==> cargo doc (warnings denied)"
RUSTDOCFLAGS="-D warnings" cargo doc --workspace --no-deps --all-features

echo "==> cargo test"
cargo test --workspace --all-features

# The libraries build on the rust-version they declare (Cargo.toml's [workspace.package]), not
# only on the newest toolchain: a user on that version gets what the README promises.
msrv=$(sed -n 's/^rust-version = "\(.*\)"$/\1/p' Cargo.toml)
echo "==> cargo check on the declared rust-version ($msrv)"
if rustup toolchain list | grep -q "^$msrv" || rustup toolchain install "$msrv" --profile minimal >/dev/null 2>&1; then
  CARGO_TARGET_DIR=target/msrv cargo "+$msrv" check --workspace --lib --all-features
else
  echo "warning: Rust $msrv can't be installed here (no toolchain server reachable); the MSRV build was not run" >&2
fi

echo "==> cargo bench --no-run"
# Only proves the benches build: without the bench profile's debug info (kept for profiling runs),
# which would add gigabytes to the disk this run needs.
CARGO_PROFILE_BENCH_DEBUG=false cargo bench --workspace --no-run

echo "==> all checks passed"
