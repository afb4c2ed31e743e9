# ctest driver_catches_errors: proves that `anycl-bench run` reports a wrong result and a bad
# descriptor the way docs/reliability.md says ("Correctness driver").
#   cmake -DBENCH=<anycl-bench> -P driver_catches_errors.cmake
# 1. --inject-error perturbs one output element: exit 1, FAIL <descriptor>, and the reproducer
#    line (which, run as printed without the option, must pass).
# 2. A malformed descriptor: exit 2 and a message naming the field.
cmake_minimum_required(VERSION 3.16)

function(expect_run code out_var)
  execute_process(COMMAND ${BENCH} run ${ARGN} RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
  if(NOT rc EQUAL code)
    message(FATAL_ERROR "anycl-bench run ${ARGN}: exit ${rc}, expected ${code}\n${out}${err}")
  endif()
  set(${out_var} "${out}${err}" PARENT_SCOPE)
endfunction()

foreach(desc "gemm:s:CTN:m17n9k33:ldc20:beta1:co3" "conv:bwd_w:n2c4h7w6k4r3s3:p1_0_2_1:s2_1:d1:g2:bias")
  expect_run(1 out --mode=correctness --algo auto --inject-error "${desc}")
  string(FIND "${out}" "FAIL ${desc}\n" at_fail)
  set(repro "reproduce: anycl-bench run --mode=correctness --algo auto --device 'default' '${desc}'")
  string(FIND "${out}" "${repro}" at_repro)
  if(at_fail LESS 0 OR at_repro LESS 0)
    message(FATAL_ERROR "no FAIL line or reproducer for ${desc}:\n${out}")
  endif()
  expect_run(0 out --mode=correctness --algo auto "${desc}")  # the reproducer itself passes
endforeach()

expect_run(2 out "gemm:s:RNN:m4n4k4:lda2")
if(NOT out MATCHES "field 'lda': must be at least 4")
  message(FATAL_ERROR "bad lda not named:\n${out}")
endif()
expect_run(2 out "conv:fwd:n1c3h4w4k3r3s3:p1_1_1")
if(NOT out MATCHES "field 'p'")
  message(FATAL_ERROR "bad padding not named:\n${out}")
endif()
message(STATUS "driver_catches_errors: passed")
