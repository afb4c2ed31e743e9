#!/usr/bin/env bash
# Self-test of scripts/check_exports.py, so the export check cannot pass by checking nothing: on
# the real libraries' listings it passes; on each listing doctored with one leak or one missing
# symbol, and on headers that declare one function more, it fails naming that symbol.
#   tests/check_exports_selftest.sh SCRIPT LIBANYCL INCLUDE_DIR LIBANYCL_BLAS MAP DOC
set -euo pipefail
script=$1 lib=$2 include=$3 blas=$4 map=$5 doc=$6
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
fail() { echo "selftest: FAIL: $*" >&2; exit 1; }

nm -D --defined-only -C "$lib" >"$work/anycl.nm"
nm -D --defined-only -C "$blas" >"$work/blas.nm"
check_anycl() { /usr/bin/python3 "$script" anycl "$lib" "${2:-$include}" --nm-output "$1"; }
check_blas() { /usr/bin/python3 "$script" blas "$blas" "$map" "$doc" --nm-output "$1"; }

check_anycl "$work/anycl.nm" >/dev/null || fail "the real libanycl.so listing does not pass"
check_blas "$work/blas.nm" >/dev/null || fail "the real libanycl_blas.so listing does not pass"

# expect_fail NAME EXPECTED-TEXT COMMAND...: the command exits 1 and prints EXPECTED-TEXT.
expect_fail() {
  local name=$1 want=$2
  shift 2
  set +e
  out=$("$@" 2>&1)
  rc=$?
  set -e
  [[ $rc -eq 1 ]] || fail "$name: exit $rc, expected 1 (output: $out)"
  grep -qF -- "$want" <<<"$out" || fail "$name: output lacks '$want': $out"
}

doctor() {  # doctor IN OUT SED-SCRIPT
  sed -e "$3" "$1" >"$2"
}
doctor "$work/anycl.nm" "$work/leak.nm" '$a 0000000000001000 T anycl::detail::Engine::slot(unsigned long)'
expect_fail "internal symbol leaks" "anycl::detail::Engine::slot" check_anycl "$work/leak.nm"
doctor "$work/anycl.nm" "$work/overload.nm" '$a 0000000000001000 T anycl::set_parallel(anycl::detail::Engine&, anycl::Parallel)'
expect_fail "internal overload of a public name leaks" "anycl::set_parallel: 1 declaration(s)" check_anycl "$work/overload.nm"
doctor "$work/anycl.nm" "$work/std.nm" '$a 0000000000001000 W void std::vector<int, std::allocator<int> >::_M_realloc_insert<int>(int&&)'
expect_fail "std instantiation leaks" "std::vector<int" check_anycl "$work/std.nm"
doctor "$work/anycl.nm" "$work/c_missing.nm" '/ T anycl_sgemm$/d'
expect_fail "C function missing" "declared in anycl.h but not exported: anycl_sgemm" check_anycl "$work/c_missing.nm"
doctor "$work/anycl.nm" "$work/cpp_missing.nm" '/ anycl::Runtime::alloc(/d'
expect_fail "C++ function missing" "anycl::Runtime::alloc: 1 declaration(s) in the headers, 0 exported" check_anycl "$work/cpp_missing.nm"
doctor "$work/anycl.nm" "$work/typeinfo.nm" '/ typeinfo for anycl::BuildError$/d'
expect_fail "exception typeinfo missing" "without exported typeinfo (not catchable): anycl::BuildError" check_anycl "$work/typeinfo.nm"
doctor "$work/anycl.nm" "$work/c_extra.nm" '$a 0000000000001000 T anycl_internal_helper'
expect_fail "undeclared C symbol" "not declared in anycl.h: anycl_internal_helper" check_anycl "$work/c_extra.nm"
# A header declaring one function more than the library has.
cp -r "$include" "$work/include"
sed -i 's|^ANYCL_API const char\* anycl_version(void);|&\nANYCL_API int anycl_not_built(void);|' "$work/include/anycl.h"
grep -q anycl_not_built "$work/include/anycl.h" || fail "could not doctor anycl.h"
expect_fail "declared but not built" "not exported: anycl_not_built" check_anycl "$work/anycl.nm" "$work/include"

doctor "$work/blas.nm" "$work/blas_leak.nm" '$a 0000000000001000 T cblas_dsyrk'
expect_fail "BLAS symbol leaks" "exported but not in" check_blas "$work/blas_leak.nm"
doctor "$work/blas.nm" "$work/blas_missing.nm" '/ T sgemm_$/d'
expect_fail "BLAS symbol missing" "but not exported: sgemm_" check_blas "$work/blas_missing.nm"
echo "selftest: ok"
