// anycl.DataParallelTrainer and the layer types of its model (include/anycl/train.hpp).

#include "py_common.hpp"

namespace anycl_py {
namespace {

constexpr const char* kTrainer = "anycl.DataParallelTrainer";

struct Trainer {
  std::shared_ptr<RuntimeHandle> handle;
  std::shared_ptr<anycl::Runtime> rt;  // the trainer's replicas live on its devices
  std::unique_ptr<anycl::DataParallelTrainer> impl;
  std::size_t channels, height, width;

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

std::unique_ptr<Trainer> make_trainer(const py::object& runtime, const anycl::ModelSpec& model, std::size_t batch,
                                      double lr, double momentum, unsigned seed, const std::string& allreduce,
                                      std::size_t stages, std::size_t micro_batches) {
  anycl::TrainOptions o;
  o.batch = batch;
  o.lr = float(finite(lr, kTrainer, "lr"));
  o.momentum = float(finite(momentum, kTrainer, "momentum"));
  o.seed = seed;
  o.allreduce = allreduce_of(allreduce);
  o.stages = stages;
  o.micro_batches = micro_batches;
  auto t = std::make_unique<Trainer>();
  t->handle = handle_of(runtime);
  t->rt = t->handle->get(kTrainer);
  t->channels = model.channels, t->height = model.height, t->width = model.width;
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
      .def(py::init(&make_trainer), "runtime"_a, "model"_a, py::kw_only(), "batch"_a = 32, "lr"_a = 0.05,
           "momentum"_a = 0.9, "seed"_a = 1, "allreduce"_a = "auto", "stages"_a = 1, "micro_batches"_a = 1)
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
