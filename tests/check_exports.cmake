# ctest `exports`: installs the build into WORK_DIR/prefix and checks the installed libraries'
# dynamic symbols (scripts/check_exports.py): libanycl.so against the installed public headers,
# libanycl_blas.so against src/blas/exports.map and docs/blas.md.
file(REMOVE_RECURSE ${WORK_DIR})
execute_process(COMMAND ${CMAKE_COMMAND} --install ${BUILD_DIR} --prefix ${WORK_DIR}/prefix
                RESULT_VARIABLE rc OUTPUT_QUIET ERROR_VARIABLE err)
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "install into ${WORK_DIR}/prefix failed: ${err}")
endif()
set(lib ${WORK_DIR}/prefix/${LIBDIR})
foreach(check "anycl;${lib}/libanycl.so;${WORK_DIR}/prefix/include/anycl"
              "blas;${lib}/libanycl_blas.so;${SOURCE_DIR}/src/blas/exports.map;${SOURCE_DIR}/docs/blas.md")
  execute_process(COMMAND ${PYTHON} ${SOURCE_DIR}/scripts/check_exports.py ${check} RESULT_VARIABLE rc)
  if(NOT rc EQUAL 0)
    message(FATAL_ERROR "check_exports.py ${check}: failed (above)")
  endif()
endforeach()
