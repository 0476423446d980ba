#!/usr/bin/env bash
# install_path_test.sh WEIR_ROOT: the set-up functions of tools/lib/setup.sh,
# and tools/weir itself, against stand-ins for the Debian tools. Each stand-in
# keeps a log, so the test checks what was asked for, not only what was said.
set -uo pipefail
root="$1"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
failures=0
fail() { echo "FAIL: $*"; failures=$((failures + 1)); }

# A PATH that holds the stand-ins and the few real tools setup.sh uses, and
# nothing else, so a real apt-get, dpkg-query or sudo can never be reached.
bin="$work/bin"
mkdir -p "$bin"
for tool in bash sh awk sort wc env cat grep mkdir rm mktemp dirname tr head tail date cmake nproc; do
  real=$(command -v "$tool") && ln -s "$real" "$bin/$tool"
done

# dpkg-query -W -f=FORMAT PKG...: "PKG STATUS" for the packages named in
# $STATE/installed (installed) and $STATE/removed (config-files left), and
# dpkg's own complaint, with exit 1, for the rest (never installed).
cat >"$bin/dpkg-query" <<'STUB'
#!/bin/bash
echo call >>"$STATE/dpkg-query.calls"
status=0
for arg in "$@"; do
  case "$arg" in -*) continue ;; esac
  if grep -qxF "$arg" "$STATE/installed" 2>/dev/null; then echo "$arg installed"
  elif grep -qxF "$arg" "$STATE/removed" 2>/dev/null; then echo "$arg config-files"
  else echo "dpkg-query: no packages found matching $arg" >&2; status=1
  fi
done
exit $status
STUB
# apt-get: logs its arguments; `install` marks the packages installed, or
# fails like a full disk when $STATE/apt-fails exists, or pretends success
# without installing when $STATE/apt-lies exists.
cat >"$bin/apt-get" <<'STUB'
#!/bin/bash
echo "$*" >>"$STATE/apt-get.calls"
[ "$1" = update ] && exit 0
if [ -e "$STATE/apt-fails" ]; then
  echo "E: You don't have enough free space in /var/cache/apt/archives/." >&2
  exit 100
fi
[ -e "$STATE/apt-lies" ] && exit 0
for arg in "$@"; do
  case "$arg" in -*|install) ;; *) echo "$arg" >>"$STATE/installed" ;; esac
done
STUB
cat >"$bin/id" <<'STUB'
#!/bin/bash
echo "${FAKE_UID:-0}"
STUB
chmod +x "$bin"/dpkg-query "$bin"/apt-get "$bin"/id

# A fresh machine state for one case: INSTALLED REMOVED (space-separated).
new_state() {
  STATE="$work/state.$1"
  rm -rf "$STATE"
  mkdir -p "$STATE"
  : >"$STATE/installed"
  : >"$STATE/removed"
  for p in $2; do echo "$p" >>"$STATE/installed"; done
  for p in $3; do echo "$p" >>"$STATE/removed"; done
  export STATE
}

# Runs weir_install_packages in a child shell with the stand-in PATH, under
# the same `set -euo pipefail` as tools/weir; sets $out (stderr) and $rc.
# Arguments are passed on (tools/test passes WEIR_TEST_PACKAGES).
install_packages() {
  out=$(env -i PATH="$bin" STATE="$STATE" FAKE_UID="${FAKE_UID:-0}" HOME="$work" \
    bash -c 'set -euo pipefail; source "$1/tools/lib/setup.sh"; shift; weir_install_packages "$@"' _ "$root" "$@" \
    2>&1 >/dev/null)
  rc=$?
}

# The package list, read from setup.sh itself so the test follows it.
mapfile -t all < <(bash -c 'source "$1/tools/lib/setup.sh"; printf "%s\n" "${WEIR_PACKAGES[@]}"' _ "$root")
[ "${#all[@]}" -ge 10 ] || fail "read only ${#all[@]} packages from setup.sh"
everything="${all[*]}"

echo "-- every package installed: nothing asked for, one dpkg-query"
new_state noop "$everything" ""
start=$(date +%s%N)
install_packages
elapsed_ms=$(( ($(date +%s%N) - start) / 1000000 ))
echo "   no-op path: ${elapsed_ms} ms (one dpkg-query for ${#all[@]} packages)"
[ "$rc" -eq 0 ] || fail "no-op exited $rc: $out"
[ -z "$out" ] || fail "no-op printed: $out"
[ ! -e "$STATE/apt-get.calls" ] || fail "no-op called apt-get: $(cat "$STATE/apt-get.calls")"
[ "$(wc -l <"$STATE/dpkg-query.calls")" -eq 1 ] || fail "no-op ran dpkg-query $(wc -l <"$STATE/dpkg-query.calls") times"

echo "-- some never installed, one removed (config files left): exactly those asked for"
unknown=("${all[4]}" "${all[10]}")     # dpkg has never heard of these
removed=("${all[7]}")                  # removed, its config files remain
rest=()
for p in "${all[@]}"; do
  case " ${unknown[*]} ${removed[*]} " in *" $p "*) ;; *) rest+=("$p") ;; esac
done
new_state some "${rest[*]}" "${removed[*]}"
install_packages
want=$(printf '%s\n' "${unknown[@]}" "${removed[@]}" | sort | tr '\n' ' ' | sed 's/ $//')
[ "$rc" -eq 0 ] || fail "install of the missing exited $rc: $out"
grep -qxF "weir: installing 3 Debian packages: $want" <<<"$out" || fail "no 'installing 3 Debian packages: $want' line in: $out"
asked=$(grep '^install' "$STATE/apt-get.calls" | tr ' ' '\n' | grep -v -e '^-' -e '^install$' | sort | tr '\n' ' ' | sed 's/ $//')
[ "$asked" = "$want" ] || fail "apt-get install was asked for '$asked', want '$want'"
grep -qx 'update -qq' "$STATE/apt-get.calls" || fail "apt-get update was not run before install"

echo "-- the tests' own packages: asked for only when tools/test passes them"
mapfile -t for_tests < <(bash -c 'source "$1/tools/lib/setup.sh"; printf "%s\n" "${WEIR_TEST_PACKAGES[@]}"' _ "$root")
[ "${#for_tests[@]}" -ge 1 ] || fail "read no test packages from setup.sh"
for p in "${for_tests[@]}"; do
  case " $everything " in *" $p "*) fail "$p is in both lists: tools/weir would install what only the tests need" ;; esac
done
new_state tests "$everything" ""
install_packages
[ "$rc" -eq 0 ] && [ ! -e "$STATE/apt-get.calls" ] || fail "tools/weir's set-up asked for more than the build needs: $out"
install_packages "${for_tests[@]}"
want=$(printf '%s\n' "${for_tests[@]}" | sort | tr '\n' ' ' | sed 's/ $//')
asked=$(grep '^install' "$STATE/apt-get.calls" | tr ' ' '\n' | grep -v -e '^-' -e '^install$' | sort | tr '\n' ' ' | sed 's/ $//')
[ "$rc" -eq 0 ] && [ "$asked" = "$want" ] || fail "with the test packages passed, apt-get was asked for '$asked', want '$want': $out"

echo "-- nothing installed at all (a bare machine): all asked for"
new_state bare "" ""
install_packages
[ "$rc" -eq 0 ] || fail "bare machine exited $rc: $out"
grep -qF "weir: installing ${#all[@]} Debian packages:" <<<"$out" || fail "bare machine: no installing line in: $out"

echo "-- apt-get fails (a full disk): one clear line, non-zero"
new_state aptfails "${rest[*]}" ""
touch "$STATE/apt-fails"
install_packages
[ "$rc" -ne 0 ] || fail "an apt-get failure exited 0"
last=$(tail -n 1 <<<"$out")
[[ "$last" == "weir: apt-get install failed"*"run: apt-get update && apt-get install -y --no-install-recommends "* ]] ||
  fail "the last line does not say what failed and what to run: $last"
[ "$(grep -c '^weir: apt-get' <<<"$out")" -eq 1 ] || fail "more than one failure line: $out"
grep -qF "enough free space" <<<"$out" || fail "apt-get's own words were not shown: $out"

echo "-- apt-get says yes but installs nothing: caught"
new_state aptlies "${rest[*]}" ""
touch "$STATE/apt-lies"
install_packages
[ "$rc" -ne 0 ] || fail "a package still missing after apt-get exited 0"
grep -qF "weir: apt-get did not install: " <<<"$out" || fail "no 'did not install' line: $out"

echo "-- not root and no sudo: says so, asks apt-get nothing"
new_state nosudo "${rest[*]}" ""
FAKE_UID=1000 install_packages
[ "$rc" -ne 0 ] || fail "no root and no sudo exited 0"
grep -qF "not root and no sudo; as root, run: apt-get update && apt-get install" <<<"$out" || fail "no clear no-sudo line: $out"
[ ! -e "$STATE/apt-get.calls" ] || fail "apt-get was called without root: $(cat "$STATE/apt-get.calls")"

echo "-- not root, with sudo: apt-get goes through sudo"
cat >"$bin/sudo" <<'STUB'
#!/bin/bash
echo "$*" >>"$STATE/sudo.calls"
exec "$@"
STUB
chmod +x "$bin/sudo"
new_state sudo "${rest[*]}" ""
FAKE_UID=1000 install_packages
[ "$rc" -eq 0 ] || fail "with sudo exited $rc: $out"
grep -q 'apt-get install' "$STATE/sudo.calls" 2>/dev/null || fail "apt-get install did not go through sudo"
rm "$bin/sudo"

echo "-- tools/weir on a machine where apt-get fails: never a silent exit"
new_state weir "${rest[*]}" ""
touch "$STATE/apt-fails"
out=$(env -i PATH="$bin" STATE="$STATE" HOME="$work" bash "$root/tools/weir" --version 2>&1)
rc=$?
[ "$rc" -ne 0 ] || fail "tools/weir exited 0 with packages missing and apt-get failing"
[[ "$(tail -n 1 <<<"$out")" == "weir: apt-get install failed"* ]] || fail "tools/weir's last line: $(tail -n 1 <<<"$out")"

echo "-- tools/test likewise"
out=$(env -i PATH="$bin" STATE="$STATE" HOME="$work" bash "$root/tools/test" 2>&1)
rc=$?
[ "$rc" -ne 0 ] || fail "tools/test exited 0 with packages missing and apt-get failing"
grep -qF "weir: apt-get install failed" <<<"$out" || fail "tools/test did not say what failed: $out"

if [ "$failures" -ne 0 ]; then
  echo "$failures check(s) failed"
  exit 1
fi
echo "every install-path check passed"
