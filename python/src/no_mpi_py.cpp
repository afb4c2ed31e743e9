// Without ANYCL_WITH_MPI: the trainer's `processes` option is refused unless None.
#include "py_common.hpp"

namespace anycl_py {

anycl::ProcessGroup* process_group_of(const py::handle& obj, const char* function) {
  if (obj.is_none()) return nullptr;
  throw anycl::Error(ANYCL_ERROR_UNSUPPORTED, std::string(function) +
                                                  ": argument 'processes': this anycl was built without MPI "
                                                  "(ANYCL_WITH_MPI, libopenmpi-dev)");
}

void bind_mpi(py::module_&) {}

}  // namespace anycl_py
