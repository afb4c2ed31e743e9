// The C++ API's own time for the calls tools/bench/python_bench.py makes through the package, in
// the same process: GEMMs on host pointers (optionally releasing and retaking the GIL around each
// call, as anycl.gemm does) and on the device buffers of anycl.Arrays.
#include <chrono>

#include "array_py.hpp"

namespace anycl_py {
namespace {

constexpr const char* kLoop = "anycl._cpp_gemm_loop";

anycl::GemmShape row_major(std::size_t m, std::size_t k, std::size_t n) {
  anycl::GemmShape s;
  s.m = m, s.k = k, s.n = n, s.lda = k ? k : 1, s.ldb = n ? n : 1, s.ldc = n ? n : 1;
  return s;
}

void check_shapes(const std::vector<py::ssize_t>& a, const std::vector<py::ssize_t>& b,
                  const std::vector<py::ssize_t>& c) {
  if (a.size() != 2 || b.size() != 2 || c.size() != 2 || b[0] != a[1] || c[0] != a[0] || c[1] != b[1])
    invalid(kLoop, "b", "a (m, k), b (k, n) and c (m, n) do not match");
}

using Clock = std::chrono::steady_clock;

double seconds_since(Clock::time_point t0) { return std::chrono::duration<double>(Clock::now() - t0).count(); }

double host_loop(const py::object& runtime, const py::array_t<float, py::array::c_style>& a,
                 const py::array_t<float, py::array::c_style>& b, py::array_t<float, py::array::c_style>& c, int calls,
                 bool gil_per_call) {
  auto rt = handle_of(runtime)->get(kLoop);
  auto dims = [](const py::array& x) { return std::vector<py::ssize_t>(x.shape(), x.shape() + x.ndim()); };
  check_shapes(dims(a), dims(b), dims(c));
  const anycl::GemmShape s = row_major(std::size_t(a.shape(0)), std::size_t(a.shape(1)), std::size_t(b.shape(1)));
  const float *pa = a.data(), *pb = b.data();
  float* pc = c.mutable_data();
  const auto t0 = Clock::now();
  if (gil_per_call) {
    for (int i = 0; i < calls; ++i) {
      py::gil_scoped_release release;
      anycl::gemm<float>(*rt, s, 1.f, pa, pb, 0.f, pc);
    }
    return seconds_since(t0);
  }
  py::gil_scoped_release release;
  for (int i = 0; i < calls; ++i) anycl::gemm<float>(*rt, s, 1.f, pa, pb, 0.f, pc);
  return seconds_since(t0);
}

double array_loop(const py::object& a_obj, const py::object& b_obj, const py::object& c_obj, int calls) {
  const Array& a = array_arg(a_obj, kLoop, "a");
  const Array &b = array_arg(b_obj, kLoop, "b", &a), &c = array_arg(c_obj, kLoop, "c", &a);
  if (a.code() != 'f' || b.code() != 'f' || c.code() != 'f') invalid(kLoop, "a", "float32 arrays only");
  check_shapes(a.shape(), b.shape(), c.shape());
  auto rt = a.runtime(kLoop);
  const anycl::GemmShape s = row_major(std::size_t(a.shape()[0]), std::size_t(a.shape()[1]), std::size_t(b.shape()[1]));
  py::gil_scoped_release release;
  const auto t0 = Clock::now();
  for (int i = 0; i < calls; ++i)
    anycl::gemm<float>(*rt, s, 1.f, a.buffer(), a.offset(), b.buffer(), b.offset(), 0.f, c.buffer(), c.offset()).wait();
  return seconds_since(t0);
}

}  // namespace

void bind_bench(py::module_& m) {
  using namespace pybind11::literals;
  m.def("_cpp_gemm_loop", &host_loop, "runtime"_a, "a"_a, "b"_a, "c"_a, "calls"_a, "gil_per_call"_a = false,
        "Seconds for `calls` row-major float32 GEMMs on host pointers through the C++ API alone (benchmark only); "
        "with gil_per_call the GIL is released and retaken around each call.");
  m.def("_cpp_gemm_arrays_loop", &array_loop, "a"_a, "b"_a, "c"_a, "calls"_a,
        "Seconds for `calls` float32 GEMMs on anycl.Arrays' buffers through the C++ API alone, each waited for.");
}

}  // namespace anycl_py
