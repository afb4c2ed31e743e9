// The compiled part of the anycl Python package (anycl._anycl).
#include "py_common.hpp"

namespace anycl_py {
void bind_runtime(py::module_& m);
void bind_gemm(py::module_& m);
void bind_conv(py::module_& m);
void bind_array(py::module_& m);
void bind_train(py::module_& m);
void bind_bench(py::module_& m);
void bind_mpi(py::module_& m);
}  // namespace anycl_py

PYBIND11_MODULE(_anycl, m) {
  m.doc() = "anycl: OpenCL GEMM and convolution on NumPy arrays (see the anycl package).";
  anycl_py::bind_runtime(m);
  anycl_py::bind_gemm(m);
  anycl_py::bind_conv(m);
  anycl_py::bind_array(m);
  anycl_py::bind_train(m);
  anycl_py::bind_bench(m);
  anycl_py::bind_mpi(m);
}
