// anycl._anycl._cpp_gemm_loop: the C++ API's own time for a GEMM on host pointers, in the same
// process as the Python calls it is compared with (tools/bench/python_bench.py).
#include <chrono>

#include "py_common.hpp"

namespace anycl_py {

void bind_bench(py::module_& m) {
  using namespace pybind11::literals;
  m.def(
      "_cpp_gemm_loop",
      [](const py::object& runtime, const py::array_t<float, py::array::c_style>& a,
         const py::array_t<float, py::array::c_style>& b, py::array_t<float, py::array::c_style>& c, int calls) {
        auto rt = handle_of(runtime)->get("anycl._cpp_gemm_loop");
        if (a.ndim() != 2 || b.ndim() != 2 || c.ndim() != 2 || b.shape(0) != a.shape(1) || c.shape(0) != a.shape(0) ||
            c.shape(1) != b.shape(1))
          invalid("anycl._cpp_gemm_loop", "b", "a (m, k), b (k, n) and c (m, n) do not match");
        anycl::GemmShape s;
        s.m = std::size_t(a.shape(0)), s.k = std::size_t(a.shape(1)), s.n = std::size_t(b.shape(1));
        s.lda = s.k, s.ldb = s.n, s.ldc = s.n;
        const float *pa = a.data(), *pb = b.data();
        float* pc = c.mutable_data();
        py::gil_scoped_release release;
        const auto t0 = std::chrono::steady_clock::now();
        for (int i = 0; i < calls; ++i) anycl::gemm<float>(*rt, s, 1.f, pa, pb, 0.f, pc);
        return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
      },
      "runtime"_a, "a"_a, "b"_a, "c"_a, "calls"_a,
      "Seconds for `calls` row-major float32 GEMMs through the C++ API alone (benchmark only).");
}

}  // namespace anycl_py
