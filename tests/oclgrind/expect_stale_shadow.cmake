# ctest entry oclgrind_stale_shadow: runs tests/oclgrind/stale_shadow.cpp under
# `oclgrind --uninitialized` in its three modes. `keep` must be clean, `reuse` and `partial` must
# report: the Oclgrind artefacts test_kernels_oclgrind works around still exist. Both runs must compute right results.
foreach(mode keep reuse partial)
  set(log "${WORK_DIR}/stale_shadow_${mode}.log")
  file(REMOVE "${log}")
  execute_process(COMMAND "${OCLGRIND}" --uninitialized --log "${log}" "${EXE}" ${mode} "${CL_FILE}"
                  RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
  if(NOT rc EQUAL 0)
    message(FATAL_ERROR "stale_shadow ${mode} failed (exit ${rc}):\n${out}${err}")
  endif()
  set(report "")
  if(EXISTS "${log}")
    file(READ "${log}" report)
  endif()
  string(REGEX MATCHALL "Uninitialized value written" hits "${report}")
  list(LENGTH hits n_${mode})
endforeach()
if(NOT n_keep EQUAL 0)
  message(FATAL_ERROR "stale_shadow keep: ${n_keep} reports, expected none (see ${WORK_DIR}/stale_shadow_keep.log)")
endif()
foreach(mode reuse partial)
  if(n_${mode} EQUAL 0)
    message(FATAL_ERROR "stale_shadow ${mode}: no report. This Oclgrind no longer shows the artefact: revisit "
                        "tests/oclgrind/deferred_release.cpp and the per-test-case processes of "
                        "test_kernels_oclgrind_oclgrind (tests/CMakeLists.txt).")
  endif()
endforeach()
message(STATUS "keep: clean; reuse: ${n_reuse}, partial: ${n_partial} stale-shadow reports (the artefacts are present)")
