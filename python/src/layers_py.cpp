// The layer types of anycl.ModelSpec (include/anycl/train.hpp), with keyword constructors and
// reprs that read back as Python. The trainer checks how the layers fit together and names the
// layer; what a constructor can check alone (a negative count, a non-finite rate, a list item
// that is no layer) it refuses at once, naming the argument.

#include <sstream>

#include "py_common.hpp"

namespace anycl_py {
namespace {

using namespace pybind11::literals;

constexpr const char* kLayerTypes =
    "ConvLayer, MaxPoolLayer, AvgPoolLayer, GlobalAvgPoolLayer, BatchNormLayer, DropoutLayer, DenseLayer or "
    "ResidualBlock";

std::size_t count_arg(long long value, const char* function, const char* arg) {
  if (value < 0) invalid(function, arg, "is " + std::to_string(value) + ", expected >= 0");
  return std::size_t(value);
}

float float_arg(double value, const char* function, const char* arg) { return float(finite(value, function, arg)); }

const char* py_bool(bool b) { return b ? "True" : "False"; }

// A float32 field as a Python attribute holding its shortest decimal; set only to finite values.
template <typename L>
void def_float(py::class_<L>& cls, const char* name, float L::*field, const char* function) {
  cls.def_property(
      name, [field](const L& l) { return float32_value(l.*field); },
      [field, function, name](L& l, double v) { l.*field = float_arg(v, function, name); });
}

}  // namespace

// Every item of `items` as a layer, else invalid() naming `arg`[index] and what it is.
std::vector<anycl::Layer> layers_of(const py::handle& items, const char* function, const char* arg) {
  if (py::isinstance<py::str>(items) || !py::isinstance<py::iterable>(items))
    invalid(function, arg, "expected a list of layers, got " + std::string(py::str(py::type::of(items).attr("__name__"))));
  std::vector<anycl::Layer> layers;
  for (const py::handle& item : py::reinterpret_borrow<py::iterable>(items)) {
    try {
      layers.push_back(item.cast<anycl::Layer>());
    } catch (const py::cast_error&) {
      invalid(function, arg, std::string(arg) + "[" + std::to_string(layers.size()) + "]: got " +
                                 std::string(py::str(py::type::of(item).attr("__name__"))) + ", expected a " + kLayerTypes);
    }
  }
  return layers;
}

std::string layers_repr(const std::vector<anycl::Layer>& layers) {
  std::string out = "[";
  for (const anycl::Layer& l : layers) out += (out.size() > 1 ? ", " : "") + std::string(py::repr(py::cast(l)));
  return out + "]";
}

void bind_layers(py::module_& m) {
  py::class_<anycl::ConvLayer>(m, "ConvLayer",
                               "Convolution: `channels` filters of kernel x kernel over `groups` channel groups (both "
                               "channel counts divide by it), with `stride` and zero padding `pad` on every side, plus a "
                               "bias, followed by ReLU when `relu`.")
      .def(py::init([](long long channels, long long kernel, long long pad, long long stride, long long groups, bool relu) {
             const char* f = "anycl.ConvLayer";
             return anycl::ConvLayer{count_arg(channels, f, "channels"), count_arg(kernel, f, "kernel"), count_arg(pad, f, "pad"),
                                     count_arg(stride, f, "stride"), count_arg(groups, f, "groups"), relu};
           }),
           "channels"_a, "kernel"_a = 3, "pad"_a = 1, "stride"_a = 1, "groups"_a = 1, "relu"_a = true)
      .def_readwrite("channels", &anycl::ConvLayer::channels).def_readwrite("kernel", &anycl::ConvLayer::kernel)
      .def_readwrite("pad", &anycl::ConvLayer::pad).def_readwrite("stride", &anycl::ConvLayer::stride)
      .def_readwrite("groups", &anycl::ConvLayer::groups).def_readwrite("relu", &anycl::ConvLayer::relu)
      .def("__repr__", [](const anycl::ConvLayer& l) {
        std::ostringstream s;
        s << "ConvLayer(channels=" << l.channels << ", kernel=" << l.kernel << ", pad=" << l.pad << ", stride=" << l.stride
          << ", groups=" << l.groups << ", relu=" << py_bool(l.relu) << ")";
        return s.str();
      });
  py::class_<anycl::MaxPoolLayer>(m, "MaxPoolLayer", "Non-overlapping size x size max-pooling (stride `size`).")
      .def(py::init([](long long size) { return anycl::MaxPoolLayer{count_arg(size, "anycl.MaxPoolLayer", "size")}; }),
           "size"_a = 2)
      .def_readwrite("size", &anycl::MaxPoolLayer::size)
      .def("__repr__", [](const anycl::MaxPoolLayer& l) { return "MaxPoolLayer(size=" + std::to_string(l.size) + ")"; });
  py::class_<anycl::AvgPoolLayer>(m, "AvgPoolLayer", "Non-overlapping size x size average pooling (stride `size`).")
      .def(py::init([](long long size) { return anycl::AvgPoolLayer{count_arg(size, "anycl.AvgPoolLayer", "size")}; }),
           "size"_a = 2)
      .def_readwrite("size", &anycl::AvgPoolLayer::size)
      .def("__repr__", [](const anycl::AvgPoolLayer& l) { return "AvgPoolLayer(size=" + std::to_string(l.size) + ")"; });
  py::class_<anycl::GlobalAvgPoolLayer>(m, "GlobalAvgPoolLayer", "The mean of every channel's plane: C x H x W -> C x 1 x 1.")
      .def(py::init<>())
      .def("__repr__", [](const anycl::GlobalAvgPoolLayer&) { return "GlobalAvgPoolLayer()"; });
  py::class_<anycl::BatchNormLayer> norm(
      m, "BatchNormLayer",
      "Batch normalisation per channel (PyTorch's BatchNorm2d: statistics of the whole global batch in training, "
      "running statistics with `momentum` in evaluation), followed by ReLU when `relu`.");
  norm.def(py::init([](double momentum, double eps, bool relu) {
             return anycl::BatchNormLayer{float_arg(momentum, "anycl.BatchNormLayer", "momentum"),
                                          float_arg(eps, "anycl.BatchNormLayer", "eps"), relu};
           }),
           "momentum"_a = 0.1, "eps"_a = 1e-5, "relu"_a = false)
      .def_readwrite("relu", &anycl::BatchNormLayer::relu)
      .def("__repr__", [](const anycl::BatchNormLayer& l) {
        return "BatchNormLayer(momentum=" + float32_text(l.momentum) + ", eps=" + float32_text(l.eps) + ", relu=" + py_bool(l.relu) + ")";
      });
  def_float(norm, "momentum", &anycl::BatchNormLayer::momentum, "anycl.BatchNormLayer");
  def_float(norm, "eps", &anycl::BatchNormLayer::eps, "anycl.BatchNormLayer");
  py::class_<anycl::DropoutLayer> dropout(m, "DropoutLayer",
                                          "Inverted dropout in training (zero with probability `rate`, scale the rest "
                                          "by 1 / (1 - rate)); evaluation passes everything.");
  dropout.def(py::init([](double rate) { return anycl::DropoutLayer{float_arg(rate, "anycl.DropoutLayer", "rate")}; }),
           "rate"_a = 0.5)
      .def("__repr__", [](const anycl::DropoutLayer& l) { return "DropoutLayer(rate=" + float32_text(l.rate) + ")"; });
  def_float(dropout, "rate", &anycl::DropoutLayer::rate, "anycl.DropoutLayer");
  py::class_<anycl::DenseLayer>(m, "DenseLayer", "Fully connected layer on the flattened input, followed by ReLU when `relu`.")
      .def(py::init([](long long units, bool relu) { return anycl::DenseLayer{count_arg(units, "anycl.DenseLayer", "units"), relu}; }),
           "units"_a, "relu"_a = false)
      .def_readwrite("units", &anycl::DenseLayer::units).def_readwrite("relu", &anycl::DenseLayer::relu)
      .def("__repr__", [](const anycl::DenseLayer& l) {
        return "DenseLayer(units=" + std::to_string(l.units) + ", relu=" + py_bool(l.relu) + ")";
      });
  py::class_<anycl::ResidualBlock>(m, "ResidualBlock",
                                   "y = relu(body(x) + shortcut(x)) (no ReLU when relu=False); an empty shortcut is the "
                                   "identity, both branches end in one shape, and blocks nest.")
      .def(py::init([](const py::object& body, const py::object& shortcut, bool relu) {
             return anycl::ResidualBlock{layers_of(body, "anycl.ResidualBlock", "body"),
                                         layers_of(shortcut, "anycl.ResidualBlock", "shortcut"), relu};
           }),
           "body"_a, "shortcut"_a = py::list(), "relu"_a = true)
      .def_property(
          "body", [](const anycl::ResidualBlock& b) { return b.body; },
          [](anycl::ResidualBlock& b, const py::object& v) { b.body = layers_of(v, "anycl.ResidualBlock", "body"); })
      .def_property(
          "shortcut", [](const anycl::ResidualBlock& b) { return b.shortcut; },
          [](anycl::ResidualBlock& b, const py::object& v) { b.shortcut = layers_of(v, "anycl.ResidualBlock", "shortcut"); })
      .def_readwrite("relu", &anycl::ResidualBlock::relu)
      .def("__repr__", [](const anycl::ResidualBlock& b) {
        return "ResidualBlock(body=" + layers_repr(b.body) + ", shortcut=" + layers_repr(b.shortcut) +
               ", relu=" + py_bool(b.relu) + ")";
      });
  py::class_<anycl::ModelSpec>(m, "ModelSpec",
                               "Input shape (channels, height, width) and layers; the last layer is a DenseLayer "
                               "without ReLU whose units are the classes (softmax cross-entropy).")
      .def(py::init([](long long c, long long h, long long w, const py::object& layers) {
             const char* f = "anycl.ModelSpec";
             return anycl::ModelSpec{count_arg(c, f, "channels"), count_arg(h, f, "height"), count_arg(w, f, "width"),
                                     layers_of(layers, f, "layers")};
           }),
           "channels"_a, "height"_a, "width"_a, "layers"_a)
      .def_readonly("channels", &anycl::ModelSpec::channels).def_readonly("height", &anycl::ModelSpec::height)
      .def_readonly("width", &anycl::ModelSpec::width).def_readonly("layers", &anycl::ModelSpec::layers)
      .def("__repr__", [](const anycl::ModelSpec& s) {
        return "ModelSpec(channels=" + std::to_string(s.channels) + ", height=" + std::to_string(s.height) +
               ", width=" + std::to_string(s.width) + ", layers=" + layers_repr(s.layers) + ")";
      });
}

}  // namespace anycl_py
