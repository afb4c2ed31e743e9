// The runtime every Oclgrind test binary runs on: one per process, on the Oclgrind device, built
// on first use and released when the Catch run ends (not during exit teardown: under load the
// process sometimes aborted at exit, "corrupted double-linked list", after every test passed),
// together with the buffers whose release deferred_release.cpp defers.
// ANYCL_TEST_OCLGRIND_SPEC runs the same cases on another device (e.g. "pocl") to tell a kernel
// bug from an Oclgrind artefact; the ctest entries leave it unset.
#pragma once

#include <string>

#include "anycl/anycl.hpp"
#include "runtime/params.hpp"

namespace anycl_test {

enum class OclgrindGemm { Cpu, Tiled };

// `gemm` sets ANYCL_GEMM_FAMILY while the runtime is created: Cpu builds and runs the CPU-class
// families (packed panels, im2col into them, Winograd panels) on the simulator's device, which
// reports a GPU with dedicated local memory and so would get the GPU-class families by
// capability; Tiled those GPU-class families. Every call of one process must
// pass the same value (the first one creates the runtime; a different one later fails the test).
anycl::Runtime& oclgrind_runtime(OclgrindGemm gemm);

// The first configuration of `family`'s search space (cl_kernels/params/<family>.space.json) on
// the runtime's device with every `want`ed value; fails the test when there is none.
anycl::detail::ParamSet space_sample(anycl::Runtime& rt, const std::string& family,
                                     const anycl::detail::ParamSet& want);

// Rebuilds the device's `variant` with `config` over the tables' values (runtime_impl.hpp).
void install(anycl::Runtime& rt, const std::string& variant, const anycl::detail::ParamSet& config);

}  // namespace anycl_test
