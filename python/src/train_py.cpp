// anycl.DataParallelTrainer and its options (include/anycl/train.hpp); the layer types are in
// layers_py.cpp.

#include <algorithm>
#include <type_traits>

#include "py_common.hpp"

namespace anycl_py {

void bind_layers(py::module_& m);  // layers_py.cpp

namespace {

constexpr const char* kTrainer = "anycl.DataParallelTrainer";

struct Trainer {
  std::shared_ptr<RuntimeHandle> handle;
  std::shared_ptr<anycl::Runtime> rt;  // the trainer's replicas live on its devices
  py::object processes;                 // the MpiProcessGroup options.processes points into
  std::unique_ptr<anycl::DataParallelTrainer> impl;  // destroyed before what it points to
  std::size_t channels, height, width;
  anycl::TrainOptions options;

  // x as count samples of (channels, height, width) float32, C-contiguous.
  std::pair<py::array, std::size_t> samples(const py::object& obj, const char* function) const {
    py::array x = py::array::ensure(float_array(obj, function, "x", 'f'), py::array::c_style);
    const std::vector<py::ssize_t> want{py::ssize_t(channels), py::ssize_t(height), py::ssize_t(width)};
    if (x.ndim() != 4 || std::vector<py::ssize_t>(x.shape() + 1, x.shape() + 4) != want)
      invalid(function, "x", "shape " + shape_text(x) + ", expected (count, " + std::to_string(channels) + ", " +
                                 std::to_string(height) + ", " + std::to_string(width) + ")");
    handle->get(function);
    return {x, std::size_t(x.shape(0))};
  }

  py::array_t<int> labels(const py::object& obj, std::size_t count, const char* function) const {
    if (!py::isinstance<py::array>(obj) || py::reinterpret_borrow<py::array>(obj).dtype().kind() != 'i')
      invalid(function, "labels", "expected a numpy.ndarray of integers");
    auto l = py::array_t<int, py::array::c_style | py::array::forcecast>::ensure(obj);
    if (l.ndim() != 1 || std::size_t(l.shape(0)) != count)
      invalid(function, "labels", "shape " + shape_text(l) + ", expected (" + std::to_string(count) + ",)");
    const int* p = l.data();
    for (std::size_t i = 0; i < count; ++i)
      if (p[i] < 0 || std::size_t(p[i]) >= impl->classes())
        invalid(function, "labels", "labels[" + std::to_string(i) + "] = " + std::to_string(p[i]) + " is not in [0, " +
                                        std::to_string(impl->classes()) + ")");
    return l;
  }

  float step(const py::object& x_obj, const py::object& l_obj) {
    auto [x, count] = samples(x_obj, "anycl.DataParallelTrainer.step");
    auto l = labels(l_obj, count, "anycl.DataParallelTrainer.step");
    const float* px = static_cast<const float*>(x.data());
    py::gil_scoped_release release;
    return impl->step(px, l.data(), count);
  }

  py::tuple gradient(const py::object& x_obj, const py::object& l_obj) {
    auto [x, count] = samples(x_obj, "anycl.DataParallelTrainer.gradient");
    auto l = labels(l_obj, count, "anycl.DataParallelTrainer.gradient");
    std::vector<float> grad;
    float loss;
    const float* px = static_cast<const float*>(x.data());
    {
      py::gil_scoped_release release;
      loss = impl->gradient(px, l.data(), count, grad);
    }
    return py::make_tuple(loss, py::array_t<float>(py::ssize_t(grad.size()), grad.data()));
  }

  // `fn(x, count)` on the samples without the GIL: the logits or the predicted classes.
  template <typename T, typename Fn>
  py::array per_sample(const py::object& x_obj, const char* function, std::size_t width, Fn fn) {
    auto [x, count] = samples(x_obj, function);
    std::vector<T> out;
    const float* px = static_cast<const float*>(x.data());
    {
      py::gil_scoped_release release;
      out = fn(px, count);
    }
    std::vector<py::ssize_t> shape{py::ssize_t(count)};
    if (width) shape.push_back(py::ssize_t(width));
    return py::array_t<T>(shape, out.data());
  }

  py::array logits(const py::object& x_obj) {
    return per_sample<float>(x_obj, "anycl.DataParallelTrainer.logits", impl->classes(),
                             [this](const float* x, std::size_t n) { return impl->logits(x, n); });
  }

  py::array predict(const py::object& x_obj) {
    return per_sample<int>(x_obj, "anycl.DataParallelTrainer.predict", 0,
                           [this](const float* x, std::size_t n) { return impl->predict(x, n); });
  }

  void save_checkpoint(const std::string& path) const {
    handle->get("anycl.DataParallelTrainer.save_checkpoint");
    py::gil_scoped_release release;
    impl->save_checkpoint(path);
  }

  void load_checkpoint(const std::string& path) {
    handle->get("anycl.DataParallelTrainer.load_checkpoint");
    py::gil_scoped_release release;
    impl->load_checkpoint(path);
  }

  void set_weights(const py::object& obj) {
    auto w = py::array::ensure(float_array(obj, "anycl.DataParallelTrainer.set_weights", "weights", 'f'), py::array::c_style);
    handle->get("anycl.DataParallelTrainer.set_weights");
    if (w.ndim() != 1 || std::size_t(w.shape(0)) != impl->parameter_count())
      invalid("anycl.DataParallelTrainer.set_weights", "weights",
              "shape " + shape_text(w) + ", expected (" + std::to_string(impl->parameter_count()) + ",)");
    const float* p = static_cast<const float*>(w.data());
    impl->set_weights(std::vector<float>(p, p + w.shape(0)));
  }
};

// The names of an enum's values in Python (the C++ names in snake case).
template <typename E>
using EnumNames = std::vector<std::pair<const char*, E>>;

const EnumNames<anycl::AllReduce> kAllReduce = {
    {"auto", anycl::AllReduce::Auto}, {"on_device", anycl::AllReduce::OnDevice}, {"host_staged", anycl::AllReduce::HostStaged}};
const EnumNames<anycl::Optimizer> kOptimizer = {
    {"sgd", anycl::Optimizer::Sgd}, {"adam", anycl::Optimizer::Adam}, {"adamw", anycl::Optimizer::AdamW}};
const EnumNames<anycl::LrSchedule> kSchedule = {
    {"constant", anycl::LrSchedule::Constant}, {"step", anycl::LrSchedule::Step}, {"cosine", anycl::LrSchedule::Cosine}};

template <typename T>
T cast_option(const py::handle& v, const char* name, const char* expected) {
  if ((std::is_integral_v<T> && (!py::isinstance<py::int_>(v) || py::isinstance<py::bool_>(v))) ||
      (std::is_floating_point_v<T> && !(py::isinstance<py::float_>(v) || py::isinstance<py::int_>(v))) ||
      (std::is_same_v<T, std::string> && !py::isinstance<py::str>(v)))
    invalid(kTrainer, name, std::string("expected ") + expected + ", got " + std::string(py::str(py::type::of(v).attr("__name__"))));
  if constexpr (std::is_integral_v<T>) {
    const long long x = v.cast<long long>();
    if (x < 0 || (std::is_same_v<T, unsigned> && x > 0xffffffffLL))
      invalid(kTrainer, name, "is " + std::to_string(x) + ", out of range");
    return T(x);
  } else {
    return v.cast<T>();
  }
}

template <typename E>
E enum_option(const py::handle& v, const char* name, const EnumNames<E>& names) {
  const std::string s = cast_option<std::string>(v, name, "a str");
  std::string known;
  for (const auto& [text, value] : names) {
    if (s == text) return value;
    known += (known.empty() ? "" : ", ") + std::string(text);
  }
  invalid(kTrainer, name, "'" + s + "' is none of " + known);
}

template <typename E>
py::object enum_name(E value, const EnumNames<E>& names) {
  for (const auto& [text, v] : names)
    if (v == value) return py::str(text);
  return py::none();
}

float float_option(const py::handle& v, const char* name) {
  return float(finite(cast_option<double>(v, name, "a float"), kTrainer, name));
}

py::object float_value(float v) { return float32_value(v); }

// TrainOptions by keyword, one line per field: how a Python value sets it and how it reads back.
// What is not given keeps TrainOptions' default.
struct Option {
  const char* name;
  void (*set)(anycl::TrainOptions&, const py::handle&);
  py::object (*get)(const anycl::TrainOptions&);
};
using O = anycl::TrainOptions;
using V = const py::handle&;
const std::vector<Option>& options_table() {
  static const std::vector<Option> table = {
      {"batch", [](O& o, V v) { o.batch = cast_option<std::size_t>(v, "batch", "an int"); }, [](const O& o) { return py::object(py::int_(o.batch)); }},
      {"lr", [](O& o, V v) { o.lr = float_option(v, "lr"); }, [](const O& o) { return float_value(o.lr); }},
      {"momentum", [](O& o, V v) { o.momentum = float_option(v, "momentum"); }, [](const O& o) { return float_value(o.momentum); }},
      {"seed", [](O& o, V v) { o.seed = cast_option<unsigned>(v, "seed", "an int"); }, [](const O& o) { return py::object(py::int_(o.seed)); }},
      {"allreduce", [](O& o, V v) { o.allreduce = enum_option(v, "allreduce", kAllReduce); }, [](const O& o) { return enum_name(o.allreduce, kAllReduce); }},
      {"processes", [](O& o, V v) { o.processes = process_group_of(v, kTrainer); },
       [](const O& o) { return o.processes ? py::object(py::int_(o.processes->size())) : py::object(py::none()); }},
      {"optimizer", [](O& o, V v) { o.optimizer = enum_option(v, "optimizer", kOptimizer); }, [](const O& o) { return enum_name(o.optimizer, kOptimizer); }},
      {"weight_decay", [](O& o, V v) { o.weight_decay = float_option(v, "weight_decay"); }, [](const O& o) { return float_value(o.weight_decay); }},
      {"beta1", [](O& o, V v) { o.beta1 = float_option(v, "beta1"); }, [](const O& o) { return float_value(o.beta1); }},
      {"beta2", [](O& o, V v) { o.beta2 = float_option(v, "beta2"); }, [](const O& o) { return float_value(o.beta2); }},
      {"eps", [](O& o, V v) { o.eps = float_option(v, "eps"); }, [](const O& o) { return float_value(o.eps); }},
      {"schedule", [](O& o, V v) { o.schedule = enum_option(v, "schedule", kSchedule); }, [](const O& o) { return enum_name(o.schedule, kSchedule); }},
      {"step_size", [](O& o, V v) { o.step_size = cast_option<std::size_t>(v, "step_size", "an int"); }, [](const O& o) { return py::object(py::int_(o.step_size)); }},
      {"gamma", [](O& o, V v) { o.gamma = float_option(v, "gamma"); }, [](const O& o) { return float_value(o.gamma); }},
      {"total_steps", [](O& o, V v) { o.total_steps = cast_option<std::size_t>(v, "total_steps", "an int"); }, [](const O& o) { return py::object(py::int_(o.total_steps)); }},
      {"min_lr", [](O& o, V v) { o.min_lr = float_option(v, "min_lr"); }, [](const O& o) { return float_value(o.min_lr); }},
      {"stages", [](O& o, V v) { o.stages = cast_option<std::size_t>(v, "stages", "an int"); }, [](const O& o) { return py::object(py::int_(o.stages)); }},
      {"micro_batches", [](O& o, V v) { o.micro_batches = cast_option<std::size_t>(v, "micro_batches", "an int"); },
       [](const O& o) { return py::object(py::int_(o.micro_batches)); }},
      {"bucket_bytes", [](O& o, V v) { o.bucket_bytes = cast_option<std::size_t>(v, "bucket_bytes", "an int"); },
       [](const O& o) { return py::object(py::int_(o.bucket_bytes)); }},
  };
  return table;
}

anycl::TrainOptions options_of(const py::kwargs& kwargs) {
  anycl::TrainOptions o;
  const auto& table = options_table();
  for (const auto& [key, value] : kwargs) {
    const std::string name = py::str(key);
    auto it = std::find_if(table.begin(), table.end(), [&](const Option& opt) { return opt.name == name; });
    if (it == table.end()) {
      std::string known;
      for (const Option& opt : table) known += (known.empty() ? "" : ", ") + std::string(opt.name);
      invalid(kTrainer, name.c_str(), "is not an option (options: " + known + ")");
    }
    it->set(o, value);
  }
  return o;
}

py::dict options_dict(const anycl::TrainOptions& o) {
  py::dict d;
  for (const Option& opt : options_table()) d[opt.name] = opt.get(o);
  return d;
}

std::unique_ptr<Trainer> make_trainer(const py::object& runtime, const anycl::ModelSpec& model, const py::kwargs& kwargs) {
  const anycl::TrainOptions o = options_of(kwargs);
  auto t = std::make_unique<Trainer>();
  t->handle = handle_of(runtime);
  t->rt = t->handle->get(kTrainer);
  t->channels = model.channels, t->height = model.height, t->width = model.width;
  t->options = o;
  t->processes = kwargs.contains("processes") ? py::object(kwargs["processes"]) : py::none();  // outlives the trainer
  py::gil_scoped_release release;
  t->impl = std::make_unique<anycl::DataParallelTrainer>(*t->rt, model, o);
  return t;
}

}  // namespace

void bind_train(py::module_& m) {
  using namespace pybind11::literals;
  bind_layers(m);
  py::class_<Trainer>(m, "DataParallelTrainer", "Data-parallel training over every device of a runtime: SGD with momentum, Adam or AdamW, with a "
           "constant, step or cosine learning-rate schedule.")
      .def(py::init(&make_trainer), "runtime"_a, "model"_a,
           "Options by keyword, one per TrainOptions field (defaults: anycl.DataParallelTrainer.defaults): batch, lr, "
           "momentum, seed, allreduce, processes, optimizer ({'sgd', 'adam', 'adamw'}), weight_decay, beta1, beta2, "
           "eps, schedule ({'constant', 'step', 'cosine'}), step_size, gamma, total_steps, min_lr, stages, micro_batches, "
           "bucket_bytes.")
      .def_property_readonly_static("defaults", [](const py::object&) { return options_dict(anycl::TrainOptions{}); },
                                    "The options a trainer takes, with their defaults.")
      .def_property_readonly("options", [](const Trainer& t) { return options_dict(t.options); })
      .def_property_readonly("steps", [](const Trainer& t) { return t.impl->steps(); }, "Optimizer steps taken (restored by load_checkpoint).")
      .def("save_checkpoint", &Trainer::save_checkpoint, "path"_a,
           "Writes the weights, the optimizer state, the running statistics and the step count (atomically: a "
           "temporary file renamed over path).")
      .def("load_checkpoint", &Trainer::load_checkpoint, "path"_a,
           "Restores save_checkpoint's file; the trainer is unchanged if the file is unreadable, corrupt or of another "
           "model or of other optimizer or schedule settings.")
      .def("step", &Trainer::step, "x"_a, "labels"_a, "One optimizer step; the mean loss before the update.")
      .def("gradient", &Trainer::gradient, "x"_a, "labels"_a, "(loss, gradient) without updating anything.")
      .def("logits", &Trainer::logits, "x"_a,
           "(count, classes) logits in evaluation mode: batch norm by the running statistics, no dropout.")
      .def("predict", &Trainer::predict, "x"_a, "The predicted classes, in evaluation mode as logits.")
      .def("weights", [](const Trainer& t, std::size_t replica) {
             auto w = t.impl->weights(replica);
             return py::array_t<float>(py::ssize_t(w.size()), w.data());
           }, "replica"_a = 0,
           "Every parameter of one replica, layer by layer (a residual block's body, then its shortcut), weights then "
           "bias (conv [out][in/groups][k][k], dense [units][inputs], batch norm gamma then beta).")
      .def("set_weights", &Trainer::set_weights, "weights"_a,
           "Sets every replica's parameters (weights()'s order) and clears the optimizer state.")
      .def("running_stats", [](const Trainer& t) {
             auto r = t.impl->running_stats();
             return py::array_t<float>(py::ssize_t(r.size()), r.data());
           }, "Every BatchNormLayer's running mean then running variance, layer by layer (weights()'s order).")
      .def_property_readonly("learning_rate", [](const Trainer& t) { return t.impl->learning_rate(); },
                             "The schedule's learning rate for the next step.")
      .def_property_readonly("parameter_count", [](const Trainer& t) { return t.impl->parameter_count(); })
      .def_property_readonly("classes", [](const Trainer& t) { return t.impl->classes(); })
      .def_property_readonly("replicas", [](const Trainer& t) { return t.impl->replicas(); })
      .def_property_readonly("allreduce_on_device", [](const Trainer& t) { return t.impl->allreduce_on_device(); })
      .def_property_readonly("stage_bounds", [](const Trainer& t) { return t.impl->stage_bounds(); })
      .def("parameter_bytes", [](const Trainer& t, std::size_t device) { return t.impl->parameter_bytes(device); },
           "device"_a, "The bytes of model parameters held on `device`.");
}

}  // namespace anycl_py
