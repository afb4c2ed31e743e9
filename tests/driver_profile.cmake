# ctest driver_profile: `anycl-bench run --mode perf --profile` names the kernels the call ran,
# with the time outside them, for the algorithm the descriptor resolves to.
#   cmake -DBENCH=<anycl-bench> -P driver_profile.cmake
cmake_minimum_required(VERSION 3.16)

function(expect_kernels algo desc)
  execute_process(COMMAND ${BENCH} run --mode perf --repeats 5 --profile --algo ${algo} ${desc}
                  RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
  if(NOT rc EQUAL 0)
    message(FATAL_ERROR "anycl-bench run --profile --algo ${algo} ${desc}: exit ${rc}\n${out}${err}")
  endif()
  foreach(line "perf ${desc}: median" "${desc}: " "(outside kernels)" ${ARGN})
    string(FIND "${out}" "${line}" at)
    if(at LESS 0)
      message(FATAL_ERROR "no '${line}' in the profile of ${desc} (--algo ${algo}):\n${out}")
    endif()
  endforeach()
endfunction()

# One tile panel: the filter transform runs inside the tile kernel; several: its own kernel first.
expect_kernels(winograd "conv:fwd:n2c32h9w9k32r3s3:p1" winograd_tiles_fused)
expect_kernels(winograd "conv:fwd:n8c32h28w28k32r3s3:p1" winograd_filter_transform "winograd_tiles ")
expect_kernels(implicit_gemm "conv:bwd_w:n2c3h19w17k8r7s7:p3:s2" conv_ig_stage_x conv_igw_tiles conv_igw_sum)
expect_kernels(im2col "conv:fwd:n2c8h11w10k16r3s3:p1" im2col_packed gemm_packed)
# Strided: the column panels are gathered inside the GEMM kernel.
expect_kernels(im2col "conv:fwd:n2c8h11w10k16r3s3:p1:s2" pack_a conv_im2col_gemm)
message(STATUS "driver_profile: passed")
