# Shared set-up for tools/weir and tools/test: install the Debian packages that
# are missing, configure a preset once, build it incrementally.
# Sourced, not run. Everything it prints goes to stderr, so `tools/weir` output
# stays the weir binary's own.

WEIR_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"

# Debian 12 packages the build and the tests need.
WEIR_PACKAGES=(
  cmake ninja-build g++ pkg-config
  libyaml-cpp-dev libtbb-dev libspdlog-dev libfmt-dev libboost-dev libboost-filesystem-dev
  libcli11-dev nlohmann-json3-dev libcpp-httplib-dev catch2
  libatomic-queue-dev libconcurrentqueue-dev python3
)

weir_install_packages() {
  local missing
  # One dpkg-query for all of them keeps the no-op path well under a second.
  missing=$(dpkg-query -W -f='${Package} ${db:Status-Status}\n' "${WEIR_PACKAGES[@]}" 2>&1 |
    awk '$2 != "installed" {print $1} /no packages found/ {print $NF}' | sort -u)
  [ -z "$missing" ] && return 0
  echo "weir: installing missing Debian packages: $(echo $missing)" >&2
  local sudo=""
  [ "$(id -u)" -ne 0 ] && sudo="sudo"
  $sudo env DEBIAN_FRONTEND=noninteractive apt-get update -qq >&2 || return 1
  # shellcheck disable=SC2086
  $sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $missing >&2
}

# weir_build PRESET [TARGET...]: configure once, then build incrementally.
weir_build() {
  local preset="$1"; shift
  local dir="$WEIR_ROOT/build/$preset"
  if [ ! -f "$dir/build.ninja" ]; then
    (cd "$WEIR_ROOT" && cmake --preset "$preset" >&2) || return 1
  fi
  local targets=()
  for t in "$@"; do targets+=(--target "$t"); done
  # The no-op lines of an up-to-date tree are noise in front of weir's output.
  cmake --build "$dir" --parallel "$(nproc)" "${targets[@]}" 2>&1 |
    { grep --line-buffered -v -e 'Re-checking globbed directories' -e '^ninja: no work to do' >&2 || true; }
  return "${PIPESTATUS[0]}"
}
