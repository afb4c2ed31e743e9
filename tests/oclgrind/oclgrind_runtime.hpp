// The runtime every Oclgrind test binary runs on: one per process, on the Oclgrind device, built
// on first use and released when the Catch run ends (not during exit teardown: under load the
// process sometimes aborted at exit, "corrupted double-linked list", after every test passed),
// together with the buffers whose release deferred_release.cpp defers.
// ANYCL_TEST_OCLGRIND_SPEC runs the same cases on another device (e.g. "pocl") to tell a kernel
// bug from an Oclgrind artefact; the ctest entries leave it unset.
#pragma once

#include "anycl/anycl.hpp"

namespace anycl_test {

enum class OclgrindGemm { Auto, Tiled };

// `gemm` Tiled sets ANYCL_GEMM_FAMILY=tiled while the runtime is created, so it builds and runs
// the GPU-class families on the simulator's CPU-typed device. Every call of one process must
// pass the same value (the first one creates the runtime; a different one later fails the test).
anycl::Runtime& oclgrind_runtime(OclgrindGemm gemm = OclgrindGemm::Auto);

}  // namespace anycl_test
