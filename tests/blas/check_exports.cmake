# Fails unless LIB defines exactly cblas_dgemm, cblas_sgemm, dgemm_ and sgemm_ in its dynamic
# symbol table (src/blas/exports.map): anything more would shadow the BLAS behind it.
find_program(NM nm REQUIRED)
execute_process(COMMAND ${NM} -D --defined-only --format=just-symbols ${LIB}
                RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "nm failed on ${LIB}: ${err}")
endif()
string(REGEX REPLACE "\n$" "" out "${out}")
string(REPLACE "\n" ";" symbols "${out}")
list(SORT symbols)
if(NOT symbols STREQUAL "cblas_dgemm;cblas_sgemm;dgemm_;sgemm_")
  message(FATAL_ERROR "${LIB} exports: ${symbols}\nexpected exactly cblas_dgemm;cblas_sgemm;dgemm_;sgemm_")
endif()
message(STATUS "exports: ${symbols}")
