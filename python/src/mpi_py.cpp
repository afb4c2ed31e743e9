// anycl.MpiProcessGroup (built with ANYCL_WITH_MPI): the trainer's `processes` option across the
// ranks mpirun starts. mpi4py is not assumed, so the package owns MPI: the first group initialises
// it (MPI_THREAD_SERIALIZED: the trainer calls MPI from whichever Python thread runs a step, one
// at a time under the trainer's use) and it is finalised at interpreter exit.
#include <mpi.h>

#include <algorithm>

#include "anycl/mpi.hpp"
#include "py_common.hpp"

namespace anycl_py {
namespace {

constexpr const char* kGroup = "anycl.MpiProcessGroup";

struct MpiState {
  bool initialised_here = false;
  std::vector<std::unique_ptr<anycl::MpiProcessGroup>*> open;  // the groups' slots, for finalize()
};

MpiState& state() {
  static MpiState s;
  return s;
}

// At interpreter exit: groups still alive give up their communicators without MPI_Comm_free (MPI
// releases them in MPI_Finalize; freeing one after it is an error), then MPI is finalised.
void finalize() {
  for (auto* slot : state().open) static_cast<void>(slot->release());
  state().open.clear();
  int finalized = 0;
  MPI_Finalized(&finalized);
  if (state().initialised_here && !finalized) MPI_Finalize();
}

void ensure_initialised() {
  int initialised = 0;
  MPI_Initialized(&initialised);
  if (initialised) return;
  int provided = 0;
  if (MPI_Init_thread(nullptr, nullptr, MPI_THREAD_SERIALIZED, &provided) != MPI_SUCCESS)
    throw anycl::Error(ANYCL_ERROR_INTERNAL, std::string(kGroup) + ": MPI_Init_thread failed");
  state().initialised_here = true;
  py::module_::import("atexit").attr("register")(py::cpp_function(&finalize));
}

class MpiGroup {
 public:
  explicit MpiGroup(double timeout_seconds) {
    finite(timeout_seconds, kGroup, "timeout_seconds");
    if (timeout_seconds <= 0) invalid(kGroup, "timeout_seconds", "must be positive");
    ensure_initialised();
    group_ = std::make_unique<anycl::MpiProcessGroup>(MPI_COMM_WORLD, timeout_seconds);
    state().open.push_back(&group_);
  }
  ~MpiGroup() {
    auto& open = state().open;
    open.erase(std::remove(open.begin(), open.end(), &group_), open.end());
  }
  MpiGroup(const MpiGroup&) = delete;
  MpiGroup& operator=(const MpiGroup&) = delete;

  anycl::ProcessGroup& get(const char* function) const {
    if (!group_) throw anycl::Error(ANYCL_ERROR_INVALID_ARGUMENT, std::string(function) + ": MPI was finalised");
    return *group_;
  }

 private:
  std::unique_ptr<anycl::MpiProcessGroup> group_;
};

}  // namespace

anycl::ProcessGroup* process_group_of(const py::handle& obj, const char* function) {
  if (obj.is_none()) return nullptr;
  if (!py::isinstance<MpiGroup>(obj))
    invalid(function, "processes", "expected an anycl.MpiProcessGroup or None, got " +
                                       std::string(py::str(py::type::of(obj).attr("__name__"))));
  return &obj.cast<const MpiGroup&>().get(function);
}

void bind_mpi(py::module_& m) {
  using namespace pybind11::literals;
  py::class_<MpiGroup>(m, "MpiProcessGroup", R"(The ranks of MPI_COMM_WORLD training one model together.

Pass it as DataParallelTrainer(..., processes=group) on every rank: each rank trains on its own
devices and its own shard of every batch, and every rank ends each step with bitwise the same
weights. MPI is initialised here when nobody did (mpi4py is not needed) and finalised at exit.
timeout_seconds bounds one gradient exchange once the slowest rank entered it.)")
      .def(py::init<double>(), "timeout_seconds"_a = 25.0)
      .def_property_readonly("rank", [](const MpiGroup& g) { return g.get(kGroup).rank(); })
      .def_property_readonly("size", [](const MpiGroup& g) { return g.get(kGroup).size(); })
      .def(
          "allreduce_sum",
          [](const MpiGroup& g, py::array_t<float, py::array::c_style> data) {
            if (!data.writeable()) invalid("anycl.MpiProcessGroup.allreduce_sum", "data", "is read-only");
            float* p = data.mutable_data();
            const std::size_t n = std::size_t(data.size());
            anycl::ProcessGroup& group = g.get("anycl.MpiProcessGroup.allreduce_sum");
            py::gil_scoped_release release;
            group.allreduce_sum(p, n, false);
          },
          "data"_a, "data (float32, C-contiguous) becomes the elementwise sum over the ranks, the same bits on each.");
}

}  // namespace anycl_py
