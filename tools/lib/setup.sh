# Shared set-up for tools/weir and tools/test: install the Debian packages that
# are missing, configure a preset once, build it incrementally.
# Sourced, not run. Everything it prints goes to stderr, so `tools/weir` output
# stays the weir binary's own. Every failure ends with one line saying what
# failed and what to run by hand, and a non-zero status: never a silent exit.

WEIR_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"

# Debian 12 packages the build needs (tools/weir installs these).
WEIR_PACKAGES=(
  cmake ninja-build g++ pkg-config
  libyaml-cpp-dev libtbb-dev libspdlog-dev libfmt-dev libboost-dev libboost-filesystem-dev
  libcli11-dev nlohmann-json3-dev libcpp-httplib-dev catch2
  libatomic-queue-dev libconcurrentqueue-dev python3
  libre2-dev libnats-dev libssl-dev librdkafka-dev libmimalloc-dev
)
# Only the tests need these (tools/test adds them): the fuzzing toolchain and
# the servers the integration tests start on 127.0.0.1.
WEIR_TEST_PACKAGES=(
  clang-14 libfuzzer-14-dev libclang-rt-14-dev
  nats-server
  openssl
)

weir_fail() {
  echo "weir: $*" >&2
}

# weir_missing_packages PACKAGE...: those dpkg does not have installed, one per
# line. dpkg-query exits 1 when it knows a package not at all (never
# installed); that is an answer here, not a failure, so its status is ignored.
weir_missing_packages() {
  { dpkg-query -W -f='${Package} ${db:Status-Status}\n' "$@" 2>&1 || true; } |
    awk '/no packages found matching/ {print $NF; next}
         NF >= 2 && $2 != "installed" {print $1}' | sort -u
}

# weir_install_packages [EXTRA_PACKAGE...]: installs what is missing of
# WEIR_PACKAGES and the extra ones.
weir_install_packages() {
  local wanted=("${WEIR_PACKAGES[@]}" "$@")
  local missing
  # One dpkg-query for all of them keeps the no-op path well under a second.
  missing=$(weir_missing_packages "${wanted[@]}")
  [ -z "$missing" ] && return 0
  local count
  count=$(wc -w <<<"$missing")
  missing=$(echo $missing)
  local by_hand="apt-get update && apt-get install -y --no-install-recommends $missing"
  local sudo=""
  if [ "$(id -u)" -ne 0 ]; then
    command -v sudo >/dev/null 2>&1 || {
      weir_fail "cannot install $count missing Debian packages: not root and no sudo; as root, run: $by_hand"; return 1; }
    sudo="sudo"
  fi
  local noun="packages"
  [ "$count" -eq 1 ] && noun="package"
  echo "weir: installing $count Debian $noun: $missing" >&2
  # apt-get and dpkg talk a lot; their words matter only when they fail.
  local log
  log=$(mktemp)
  if ! $sudo env DEBIAN_FRONTEND=noninteractive apt-get update -qq >"$log" 2>&1; then
    tail -n 20 "$log" >&2; rm -f "$log"
    weir_fail "apt-get update failed (see above); fix the package sources, then run: $by_hand"; return 1
  fi
  # shellcheck disable=SC2086
  if ! $sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $missing >"$log" 2>&1; then
    tail -n 20 "$log" >&2; rm -f "$log"
    weir_fail "apt-get install failed (see above: disk space, network, package sources); then run: $by_hand"; return 1
  fi
  rm -f "$log"
  missing=$(weir_missing_packages "${wanted[@]}")
  [ -z "$missing" ] || {
    weir_fail "apt-get did not install: $(echo $missing); run: apt-get install -y $(echo $missing)"; return 1; }
}

# weir_build PRESET [TARGET...]: configure once, then build incrementally.
weir_build() {
  local preset="$1"; shift
  local dir="$WEIR_ROOT/build/$preset"
  if [ ! -f "$dir/build.ninja" ]; then
    echo "weir: building weir, preset $preset (first time: about 2 minutes on 2 cores)" >&2
    (cd "$WEIR_ROOT" && cmake --preset "$preset" >/dev/null) || {
      weir_fail "configuring the $preset build failed (see above); by hand: cmake --preset $preset"; return 1; }
  fi
  local targets=()
  for t in "$@"; do targets+=(--target "$t"); done
  # The no-op lines of an up-to-date tree are noise in front of weir's output.
  cmake --build "$dir" --parallel "$(nproc)" "${targets[@]}" 2>&1 |
    { grep --line-buffered -v -e 'Re-checking globbed directories' -e '^ninja: no work to do' >&2 || true; }
  local status="${PIPESTATUS[0]}"
  [ "$status" -eq 0 ] || {
    weir_fail "building the $preset preset failed (see above); by hand: cmake --build build/$preset"; return 1; }
}
