// anycl.DataParallelTrainer and the layer types of its model (include/anycl/train.hpp).

#include <algorithm>
#include <type_traits>

#include "py_common.hpp"

namespace anycl_py {
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

anycl::AllReduce allreduce_of(const std::string& s) {
  if (s == "auto") return anycl::AllReduce::Auto;
  if (s == "on_device") return anycl::AllReduce::OnDevice;
  if (s == "host_staged") return anycl::AllReduce::HostStaged;
  invalid(kTrainer, "allreduce", "'" + s + "' is none of auto, on_device, host_staged");
}

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

// TrainOptions by keyword, one line per option; what is not given keeps TrainOptions' default.
using OptionSetter = void (*)(anycl::TrainOptions&, const py::handle&);
const std::vector<std::pair<std::string, OptionSetter>>& option_setters() {
  static const std::vector<std::pair<std::string, OptionSetter>> setters = {
      {"batch", [](anycl::TrainOptions& o, const py::handle& v) { o.batch = cast_option<std::size_t>(v, "batch", "an int"); }},
      {"lr", [](anycl::TrainOptions& o, const py::handle& v) { o.lr = float(finite(cast_option<double>(v, "lr", "a float"), kTrainer, "lr")); }},
      {"momentum", [](anycl::TrainOptions& o, const py::handle& v) {
         o.momentum = float(finite(cast_option<double>(v, "momentum", "a float"), kTrainer, "momentum"));
       }},
      {"seed", [](anycl::TrainOptions& o, const py::handle& v) { o.seed = cast_option<unsigned>(v, "seed", "an int"); }},
      {"allreduce", [](anycl::TrainOptions& o, const py::handle& v) {
         o.allreduce = allreduce_of(cast_option<std::string>(v, "allreduce", "a str"));
       }},
      {"processes", [](anycl::TrainOptions& o, const py::handle& v) { o.processes = process_group_of(v, kTrainer); }},
      {"stages", [](anycl::TrainOptions& o, const py::handle& v) { o.stages = cast_option<std::size_t>(v, "stages", "an int"); }},
      {"micro_batches", [](anycl::TrainOptions& o, const py::handle& v) {
         o.micro_batches = cast_option<std::size_t>(v, "micro_batches", "an int");
       }},
  };
  return setters;
}

anycl::TrainOptions options_of(const py::kwargs& kwargs) {
  anycl::TrainOptions o;
  for (const auto& [key, value] : kwargs) {
    const std::string name = py::str(key);
    const auto& setters = option_setters();
    auto it = std::find_if(setters.begin(), setters.end(), [&](const auto& s) { return s.first == name; });
    if (it == setters.end()) {
      std::string known;
      for (const auto& s : setters) known += (known.empty() ? "" : ", ") + s.first;
      invalid(kTrainer, name.c_str(), "is not an option (options: " + known + ")");
    }
    it->second(o, value);
  }
  return o;
}

py::dict options_dict(const anycl::TrainOptions& o) {
  const char* allreduce = o.allreduce == anycl::AllReduce::OnDevice ? "on_device"
                          : o.allreduce == anycl::AllReduce::HostStaged ? "host_staged" : "auto";
  return py::dict(py::arg("batch") = o.batch, py::arg("lr") = o.lr, py::arg("momentum") = o.momentum,
                  py::arg("seed") = o.seed, py::arg("allreduce") = allreduce,
                  py::arg("processes") = o.processes ? py::object(py::int_(o.processes->size())) : py::object(py::none()),
                  py::arg("stages") = o.stages, py::arg("micro_batches") = o.micro_batches);
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
  py::class_<anycl::ConvLayer>(m, "ConvLayer", "Convolution (stride 1, zero padding `pad`) followed by ReLU.")
      .def(py::init([](std::size_t channels, std::size_t kernel, std::size_t pad) {
             return anycl::ConvLayer{channels, kernel, pad};
           }),
           "channels"_a, "kernel"_a = 3, "pad"_a = 1)
      .def_readwrite("channels", &anycl::ConvLayer::channels).def_readwrite("kernel", &anycl::ConvLayer::kernel)
      .def_readwrite("pad", &anycl::ConvLayer::pad);
  py::class_<anycl::MaxPoolLayer>(m, "MaxPoolLayer", "Non-overlapping size x size max-pooling.")
      .def(py::init([](std::size_t size) { return anycl::MaxPoolLayer{size}; }), "size"_a = 2)
      .def_readwrite("size", &anycl::MaxPoolLayer::size);
  py::class_<anycl::DenseLayer>(m, "DenseLayer", "Fully connected layer, optionally followed by ReLU.")
      .def(py::init([](std::size_t units, bool relu) { return anycl::DenseLayer{units, relu}; }), "units"_a,
           "relu"_a = false)
      .def_readwrite("units", &anycl::DenseLayer::units).def_readwrite("relu", &anycl::DenseLayer::relu);
  py::class_<anycl::ModelSpec>(m, "ModelSpec", "Input shape and layers; the last layer is a DenseLayer of the classes.")
      .def(py::init([](std::size_t c, std::size_t h, std::size_t w, std::vector<anycl::Layer> layers) {
             return anycl::ModelSpec{c, h, w, std::move(layers)};
           }),
           "channels"_a, "height"_a, "width"_a, "layers"_a)
      .def_readonly("channels", &anycl::ModelSpec::channels).def_readonly("height", &anycl::ModelSpec::height)
      .def_readonly("width", &anycl::ModelSpec::width).def_readonly("layers", &anycl::ModelSpec::layers);
  py::class_<Trainer>(m, "DataParallelTrainer", "Data-parallel SGD with momentum over every device of a runtime.")
      .def(py::init(&make_trainer), "runtime"_a, "model"_a,
           "Options by keyword (defaults: anycl.DataParallelTrainer.defaults): batch, lr, momentum, seed, allreduce, processes, stages, micro_batches.")
      .def_property_readonly_static("defaults", [](const py::object&) { return options_dict(anycl::TrainOptions{}); },
                                    "The options a trainer takes, with their defaults.")
      .def_property_readonly("options", [](const Trainer& t) { return options_dict(t.options); })
      .def_property_readonly("steps", [](const Trainer& t) { return t.impl->steps(); }, "SGD steps taken.")
      .def("save_checkpoint", &Trainer::save_checkpoint, "path"_a,
           "Writes the weights, momentum and step count (atomically: a temporary file renamed over path).")
      .def("load_checkpoint", &Trainer::load_checkpoint, "path"_a,
           "Restores save_checkpoint's file; the trainer is unchanged if the file is unreadable, corrupt or of another "
           "model, lr or momentum.")
      .def("step", &Trainer::step, "x"_a, "labels"_a, "One SGD step; the mean loss before the update.")
      .def("gradient", &Trainer::gradient, "x"_a, "labels"_a, "(loss, gradient) without updating anything.")
      .def("logits", &Trainer::logits, "x"_a)
      .def("predict", &Trainer::predict, "x"_a)
      .def("weights", [](const Trainer& t, std::size_t replica) {
             auto w = t.impl->weights(replica);
             return py::array_t<float>(py::ssize_t(w.size()), w.data());
           }, "replica"_a = 0)
      .def("set_weights", &Trainer::set_weights, "weights"_a)
      .def_property_readonly("parameter_count", [](const Trainer& t) { return t.impl->parameter_count(); })
      .def_property_readonly("classes", [](const Trainer& t) { return t.impl->classes(); })
      .def_property_readonly("replicas", [](const Trainer& t) { return t.impl->replicas(); })
      .def_property_readonly("allreduce_on_device", [](const Trainer& t) { return t.impl->allreduce_on_device(); })
      .def_property_readonly("stage_bounds", [](const Trainer& t) { return t.impl->stage_bounds(); })
      .def("parameter_bytes", [](const Trainer& t, std::size_t device) { return t.impl->parameter_bytes(device); },
           "device"_a, "The bytes of model parameters held on `device`.");
}

}  // namespace anycl_py
