#!/usr/bin/env bash
# `make package-check`: what a user gets from `make dist` and `make install`, checked from
# outside the repository, as a new user would:
#   1. `make dist`: a release abi3 wheel tagged manylinux_2_17 and an sdist (timed);
#   2. the wheel in a fresh venv: tags, no debug info, no web framework pulled, smoke script;
#   3. the sdist alone, copied out and built by pip with the local Rust toolchain: smoke script;
#   4. `make install PREFIX=...`: files, SONAME and links, only mf_ symbols exported; the C
#      example built with nothing but pkg-config, shared and static, both run under valgrind
#      with the installed suppression file.
set -euo pipefail
repo=$(cd "$(dirname "$0")/../.." && pwd)
work=$(mktemp -d "${TMPDIR:-/tmp}/magflow-package-check.XXXXXX")
trap 'rm -rf "$work"' EXIT
PY=${PYTHON:-python3}
checks=0
step() { echo "== package-check: $*"; }
pass() { checks=$((checks + 1)); echo "   ok: $*"; }
die() { echo "package-check FAILED: $*" >&2; echo "$checks passed, 1 failed"; exit 1; }

# ---- 1. make dist ---------------------------------------------------------------------------
step "make dist"
start=$SECONDS
make -C "$repo" --no-print-directory dist
echo "   make dist took $((SECONDS - start)) s"
wheels=("$repo"/dist/*.whl)
sdists=("$repo"/dist/*.tar.gz)
[ ${#wheels[@]} -eq 1 ] && [ -f "${wheels[0]}" ] || die "expected one wheel in dist/"
[ ${#sdists[@]} -eq 1 ] && [ -f "${sdists[0]}" ] || die "expected one sdist in dist/"
wheel=${wheels[0]}
sdist=${sdists[0]}
pass "dist/$(basename "$wheel") and dist/$(basename "$sdist")"

# The scripts run from $work, so nothing of the checkout is on sys.path.
cp "$repo/tests/packaging/smoke.py" "$repo/tests/packaging/check_wheel.py" "$work/"

# ---- 2. the wheel in a fresh venv -----------------------------------------------------------
step "release wheel in a fresh venv"
"$PY" -m venv "$work/wheel-venv"
"$work/wheel-venv/bin/python" -m pip install --quiet "$wheel"
(cd "$work" && wheel-venv/bin/python check_wheel.py "$wheel") || die "wheel check"
pass "tags and no debug info"
if "$work/wheel-venv/bin/python" -m pip list --format=freeze | grep -iE '^(fastapi|starlette|uvicorn|flask|django)=='; then
  die "the base install pulled a web framework"
fi
pass "no web framework in the base install"
(cd "$work" && wheel-venv/bin/python smoke.py) || die "smoke script on the release wheel"
pass "smoke script on the release wheel"

# ---- 3. the sdist alone ---------------------------------------------------------------------
step "sdist built by pip outside the repository"
mkdir "$work/sdist"
cp "$sdist" "$work/sdist/"
"$PY" -m venv "$work/sdist-venv"
start=$SECONDS
(cd "$work/sdist" && CARGO_TARGET_DIR="$work/sdist/target" \
  ../sdist-venv/bin/python -m pip install --quiet "./$(basename "$sdist")") || die "pip install of the sdist"
echo "   building the sdist took $((SECONDS - start)) s"
rm -rf "$work/sdist/target"
(cd "$work" && sdist-venv/bin/python smoke.py) || die "smoke script on the wheel built from the sdist"
pass "smoke script on the wheel built from the sdist"

# ---- 4. make install + pkg-config + the C example under valgrind ----------------------------
step "make install PREFIX=$work/prefix"
prefix="$work/prefix"
make -C "$repo" --no-print-directory install PREFIX="$prefix"
version=$(sed -n 's/^version = "\(.*\)"$/\1/p' "$repo/Cargo.toml" | head -n 1)
for f in include/magflow_emag.h "lib/libmagflow_emag.so.$version" lib/libmagflow_emag.a \
         lib/pkgconfig/magflow-emag.pc share/magflow-emag/valgrind.supp; do
  [ -f "$prefix/$f" ] || die "$f was not installed"
done
[ "$(readlink "$prefix/lib/libmagflow_emag.so.0")" = "libmagflow_emag.so.$version" ] || die "libmagflow_emag.so.0 link"
[ "$(readlink "$prefix/lib/libmagflow_emag.so")" = "libmagflow_emag.so.0" ] || die "libmagflow_emag.so link"
readelf -d "$prefix/lib/libmagflow_emag.so.$version" | grep -q 'SONAME.*\[libmagflow_emag\.so\.0\]' || die "SONAME"
pass "header, libmagflow_emag.so.$version (SONAME libmagflow_emag.so.0) and links, .a, .pc"
others=$(nm -D --defined-only "$prefix/lib/libmagflow_emag.so.$version" | awk '{print $3}' | grep -v '^mf_' || true)
[ -z "$others" ] || die "symbols exported without the mf_ prefix: $(echo "$others" | head -5 | tr '\n' ' ')"
pass "only mf_ symbols exported ($(nm -D --defined-only "$prefix/lib/libmagflow_emag.so.$version" | grep -c ' mf_'))"

# A prefix holding only the static library, as a static-only install would (the linker
# prefers the shared one when both are present).
static_prefix="$work/static-prefix"
make -C "$repo" --no-print-directory install PREFIX="$static_prefix" >/dev/null
rm -f "$static_prefix"/lib/libmagflow_emag.so*

mkdir "$work/c"
cp "$repo/examples/c/sync_example.c" "$work/c/"
cd "$work/c"
CFLAGS_EX=(-std=c11 -Wall -Wextra -Werror -O1)
PKG_CONFIG_PATH="$prefix/lib/pkgconfig" \
  cc "${CFLAGS_EX[@]}" sync_example.c $(PKG_CONFIG_PATH="$prefix/lib/pkgconfig" pkg-config --cflags --libs magflow-emag) -o ex_shared
readelf -d ex_shared | grep -q 'NEEDED.*\[libmagflow_emag\.so\.0\]' || die "ex_shared does not load libmagflow_emag.so.0"
pass "example linked with pkg-config --cflags --libs (shared)"
cc "${CFLAGS_EX[@]}" sync_example.c $(PKG_CONFIG_PATH="$static_prefix/lib/pkgconfig" pkg-config --static --cflags --libs magflow-emag) -o ex_static
if readelf -d ex_static | grep -q 'libmagflow_emag'; then die "ex_static still loads the shared library"; fi
pass "example linked with pkg-config --static --cflags --libs (static)"

vg=(valgrind --quiet --suppressions="$prefix/share/magflow-emag/valgrind.supp" --leak-check=full
    --show-leak-kinds=definite,indirect,possible --errors-for-leak-kinds=definite,indirect,possible
    --error-exitcode=99)
LD_LIBRARY_PATH="$prefix/lib" "${vg[@]}" ./ex_shared shared.db || die "the shared example under valgrind"
pass "shared example ran, valgrind clean"
"${vg[@]}" ./ex_static static.db || die "the static example under valgrind"
pass "static example ran, valgrind clean"

echo "package-check: $checks passed, 0 failed"
