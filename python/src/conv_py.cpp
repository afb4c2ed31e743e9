// anycl.conv2d and its two backward passes on NumPy float32 NCHW arrays, with PyTorch's argument
// conventions (stride, padding and dilation as an int or a pair; padding also as four values).
#include <array>

#include "array_py.hpp"

namespace anycl_py {
namespace {

using Pair = std::array<std::size_t, 2>;

std::size_t non_negative(const py::handle& v, const char* function, const char* arg, bool positive) {
  if (!py::isinstance<py::int_>(v) || py::isinstance<py::bool_>(v))
    invalid(function, arg, "expected an int, got " + std::string(py::str(py::type::of(v).attr("__name__"))));
  const long long x = v.cast<long long>();
  if (x < (positive ? 1 : 0)) invalid(function, arg, std::string("must be ") + (positive ? "positive" : ">= 0") + ", got " + std::to_string(x));
  return std::size_t(x);
}

// An int or a sequence of `counts` ints, as a vector.
std::vector<std::size_t> ints(const py::object& v, const char* function, const char* arg, bool positive,
                              std::initializer_list<std::size_t> counts) {
  if (py::isinstance<py::int_>(v) && !py::isinstance<py::bool_>(v)) return {non_negative(v, function, arg, positive)};
  if (!py::isinstance<py::sequence>(v) || py::isinstance<py::str>(v))
    invalid(function, arg, "expected an int or a tuple of ints");
  const auto seq = py::reinterpret_borrow<py::sequence>(v);
  if (std::find(counts.begin(), counts.end(), seq.size()) == counts.end())
    invalid(function, arg, "has " + std::to_string(seq.size()) + " values, expected " +
                               (counts.size() == 1 ? "2" : "2 (height, width) or 4 (left, right, top, bottom)"));
  std::vector<std::size_t> out;
  for (const auto& item : seq) out.push_back(non_negative(item, function, arg, positive));
  return out;
}

Pair pair(const py::object& v, const char* function, const char* arg) {
  const auto x = ints(v, function, arg, true, {2});
  return x.size() == 1 ? Pair{x[0], x[0]} : Pair{x[0], x[1]};
}

anycl::ConvAlgo algo_of(const std::string& name, const char* function) {
  using A = anycl::ConvAlgo;
  for (A a : {A::Auto, A::Im2col, A::Gemm1x1, A::Direct, A::Winograd, A::ImplicitGemm})
    if (name == anycl::to_string(a)) return a;
  invalid(function, "algo", "'" + name + "' is none of auto, im2col, gemm1x1, direct, winograd, implicit_gemm");
}

// A float32 array of rank 4 (or `rank`), C-contiguous (copied once if it is not).
py::array tensor(const py::object& obj, const char* function, const char* arg, int rank = 4) {
  py::array a = float_array(obj, function, arg, 'f');
  if (a.ndim() != rank)
    invalid(function, arg, "rank " + std::to_string(a.ndim()) + " (shape " + shape_text(a) + "), expected " + std::to_string(rank));
  return py::array::ensure(a, py::array::c_style);
}

std::vector<std::size_t> shape4(const py::object& v, const char* function, const char* arg) {
  const auto s = ints(v, function, arg, false, {4});
  if (s.size() != 4) invalid(function, arg, "expected 4 sizes (N, C, H, W)");
  return s;
}

// The descriptor for x[n][c][h][w] and w[k][c/groups][r][s], with the arguments checked.
struct Geometry {
  const char* function;
  py::object stride, padding, dilation;
  std::size_t groups;
  bool relu;

  anycl::Conv2d descriptor(const std::vector<std::size_t>& x, const std::vector<std::size_t>& w) const {
    anycl::Conv2d d;
    d.n = x[0], d.c = x[1], d.h = x[2], d.w = x[3], d.k = w[0], d.r = w[2], d.s = w[3];
    const Pair st = pair(stride, function, "stride"), dl = pair(dilation, function, "dilation");
    d.stride_h = st[0], d.stride_w = st[1], d.dilation_h = dl[0], d.dilation_w = dl[1];
    const auto pad = ints(padding, function, "padding", false, {2, 4});
    if (pad.size() == 4)
      d.pad_left = pad[0], d.pad_right = pad[1], d.pad_top = pad[2], d.pad_bottom = pad[3];
    else
      d.pad_top = d.pad_bottom = pad[0], d.pad_left = d.pad_right = pad.back();
    if (groups == 0) invalid(function, "groups", "must be positive");
    d.groups = groups, d.relu = relu;
    if (d.c % groups || d.k % groups)
      invalid(function, "groups", std::to_string(groups) + " does not divide the " + std::to_string(d.c) + " input and " +
                                      std::to_string(d.k) + " output channels");
    if (w[1] * groups != d.c)
      invalid(function, "w", "has " + std::to_string(w[1]) + " input channels per group; x's " + std::to_string(d.c) +
                                 " channels in " + std::to_string(groups) + " groups need " + std::to_string(d.c / groups));
    try {
      d.validate();
    } catch (const anycl::Error& e) {
      throw anycl::Error(e.status(), std::string(function) + ": " + e.what());
    }
    return d;
  }
};

std::vector<std::size_t> dims(const py::array& a) { return {a.shape(), a.shape() + a.ndim()}; }

std::vector<std::size_t> dims(const Array& a) { return {a.shape().begin(), a.shape().end()}; }

std::string dims_text(const std::vector<std::size_t>& d) { return shape_text(std::vector<py::ssize_t>(d.begin(), d.end())); }

void check_shape(const std::vector<std::size_t>& have, const std::vector<std::size_t>& want, const char* function,
                 const char* arg) {
  if (have != want) invalid(function, arg, "shape " + dims_text(have) + ", expected " + dims_text(want));
}

void check_shape(const py::array& a, const std::vector<std::size_t>& want, const char* function, const char* arg) {
  check_shape(dims(a), want, function, arg);
}

// A float32 Array operand of rank `rank` (on `first`'s runtime and device, if given).
const Array& tensor_array(const py::handle& obj, const char* function, const char* arg, std::size_t rank,
                          const Array* first = nullptr) {
  const Array& a = array_arg(obj, function, arg, first);
  if (a.code() != 'f') invalid(function, arg, "dtype " + dtype_name(a.code()) + ", expected float32");
  if (a.shape().size() != rank)
    invalid(function, arg, "rank " + std::to_string(a.shape().size()) + " (shape " + shape_text(a.shape()) +
                               "), expected " + std::to_string(rank));
  return a;
}

py::object new_array(const Array& like, const std::vector<std::size_t>& shape) {
  return py::cast(Array(like.handle(), like.device(), 'f', std::vector<py::ssize_t>(shape.begin(), shape.end())));
}

bool any_array(std::initializer_list<py::handle> objs) {
  for (const auto& o : objs)
    if (as_array(o)) return true;
  return false;
}

// The three passes on anycl.Arrays: their device memory, the results new Arrays.
py::object conv2d_arrays(const py::object& x_obj, const py::object& w_obj, const py::object& bias_obj,
                         const Geometry& g, const std::string& algo_name, const py::object& runtime) {
  const Array& x = tensor_array(x_obj, g.function, "x", 4);
  const Array& w = tensor_array(w_obj, g.function, "w", 4, &x);
  const anycl::Conv2d d = g.descriptor(dims(x), dims(w));
  const Array* bias = bias_obj.is_none() ? nullptr : &tensor_array(bias_obj, g.function, "bias", 1, &x);
  if (bias) check_shape(dims(*bias), {d.k}, g.function, "bias");
  const anycl::ConvAlgo algo = algo_of(algo_name, g.function);
  auto rt = runtime_of(x, runtime, g.function);
  py::object y = new_array(x, {d.n, d.k, d.p(), d.q()});
  const anycl::Buffer bx = x.at_start(g.function), bw = w.at_start(g.function);
  const anycl::Buffer bb = bias ? bias->at_start(g.function) : anycl::Buffer();
  const anycl::Buffer by = y.cast<const Array&>().buffer();
  py::gil_scoped_release release;
  anycl::conv2d_forward(*rt, d, bx, bw, bias ? &bb : nullptr, by, algo).wait();
  return y;
}

py::object backward_data_arrays(const py::object& dy_obj, const py::object& w_obj, const py::object& x_shape,
                                const Geometry& g, const std::string& algo_name, const py::object& runtime) {
  const Array& dy = tensor_array(dy_obj, g.function, "dy", 4);
  const Array& w = tensor_array(w_obj, g.function, "w", 4, &dy);
  const anycl::Conv2d d = g.descriptor(shape4(x_shape, g.function, "x_shape"), dims(w));
  check_shape(dims(dy), {d.n, d.k, d.p(), d.q()}, g.function, "dy");
  const anycl::ConvAlgo algo = algo_of(algo_name, g.function);
  auto rt = runtime_of(dy, runtime, g.function);
  py::object dx = new_array(dy, {d.n, d.c, d.h, d.w});
  const anycl::Buffer bdy = dy.at_start(g.function), bw = w.at_start(g.function);
  const anycl::Buffer bdx = dx.cast<const Array&>().buffer();
  py::gil_scoped_release release;
  anycl::conv2d_backward_data(*rt, d, bdy, bw, bdx, algo).wait();
  return dx;
}

py::object backward_weights_arrays(const py::object& x_obj, const py::object& dy_obj, const py::object& w_shape,
                                   bool bias_grad, const Geometry& g, const std::string& algo_name,
                                   const py::object& runtime) {
  const Array& x = tensor_array(x_obj, g.function, "x", 4);
  const Array& dy = tensor_array(dy_obj, g.function, "dy", 4, &x);
  const anycl::Conv2d d = g.descriptor(dims(x), shape4(w_shape, g.function, "w_shape"));
  check_shape(dims(dy), {d.n, d.k, d.p(), d.q()}, g.function, "dy");
  const anycl::ConvAlgo algo = algo_of(algo_name, g.function);
  auto rt = runtime_of(x, runtime, g.function);
  py::object dw = new_array(x, {d.k, d.c / d.groups, d.r, d.s});
  py::object db = bias_grad ? new_array(x, {d.k}) : py::none();
  const anycl::Buffer bx = x.at_start(g.function), bdy = dy.at_start(g.function);
  const anycl::Buffer bdw = dw.cast<const Array&>().buffer();
  const anycl::Buffer bdb = bias_grad ? db.cast<const Array&>().buffer() : anycl::Buffer();
  {
    py::gil_scoped_release release;
    anycl::conv2d_backward_weights(*rt, d, bx, bdy, bdw, bias_grad ? &bdb : nullptr, algo).wait();
  }
  if (bias_grad) return py::make_tuple(dw, db);
  return dw;
}

py::array_t<float> empty(const std::vector<std::size_t>& shape) {
  return py::array_t<float>(std::vector<py::ssize_t>(shape.begin(), shape.end()));
}

py::object conv2d(const py::object& x_obj, const py::object& w_obj, const py::object& bias_obj, const Geometry& g,
                  const std::string& algo_name, const py::object& runtime) {
  if (any_array({x_obj, w_obj, bias_obj})) return conv2d_arrays(x_obj, w_obj, bias_obj, g, algo_name, runtime);
  const py::array x = tensor(x_obj, g.function, "x"), w = tensor(w_obj, g.function, "w");
  const anycl::Conv2d d = g.descriptor(dims(x), dims(w));
  // Only read when given: a default-constructed py::array is a real (empty) array, not null.
  const bool has_bias = !bias_obj.is_none();
  py::array bias;
  if (has_bias) {
    bias = tensor(bias_obj, g.function, "bias", 1);
    check_shape(bias, {d.k}, g.function, "bias");
  }
  const anycl::ConvAlgo algo = algo_of(algo_name, g.function);
  auto rt = handle_of(runtime)->get(g.function);
  auto y = empty({d.n, d.k, d.p(), d.q()});
  const float* pb = has_bias ? static_cast<const float*>(bias.data()) : nullptr;
  const float *px = static_cast<const float*>(x.data()), *pw = static_cast<const float*>(w.data());
  float* py_ = y.mutable_data();
  py::gil_scoped_release release;
  anycl::conv2d_forward(*rt, d, px, pw, pb, py_, algo);
  return y;
}

py::object backward_data(const py::object& dy_obj, const py::object& w_obj, const py::object& x_shape, const Geometry& g,
                         const std::string& algo_name, const py::object& runtime) {
  if (any_array({dy_obj, w_obj})) return backward_data_arrays(dy_obj, w_obj, x_shape, g, algo_name, runtime);
  const py::array dy = tensor(dy_obj, g.function, "dy"), w = tensor(w_obj, g.function, "w");
  const anycl::Conv2d d = g.descriptor(shape4(x_shape, g.function, "x_shape"), dims(w));
  check_shape(dy, {d.n, d.k, d.p(), d.q()}, g.function, "dy");
  const anycl::ConvAlgo algo = algo_of(algo_name, g.function);
  auto rt = handle_of(runtime)->get(g.function);
  auto dx = empty({d.n, d.c, d.h, d.w});
  const float *pdy = static_cast<const float*>(dy.data()), *pw = static_cast<const float*>(w.data());
  float* pdx = dx.mutable_data();
  py::gil_scoped_release release;
  anycl::conv2d_backward_data(*rt, d, pdy, pw, pdx, algo);
  return dx;
}

py::object backward_weights(const py::object& x_obj, const py::object& dy_obj, const py::object& w_shape,
                            bool bias_grad, const Geometry& g, const std::string& algo_name, const py::object& runtime) {
  if (any_array({x_obj, dy_obj}))
    return backward_weights_arrays(x_obj, dy_obj, w_shape, bias_grad, g, algo_name, runtime);
  const py::array x = tensor(x_obj, g.function, "x"), dy = tensor(dy_obj, g.function, "dy");
  const anycl::Conv2d d = g.descriptor(dims(x), shape4(w_shape, g.function, "w_shape"));
  check_shape(dy, {d.n, d.k, d.p(), d.q()}, g.function, "dy");
  const anycl::ConvAlgo algo = algo_of(algo_name, g.function);
  auto rt = handle_of(runtime)->get(g.function);
  auto dw = empty({d.k, d.c / d.groups, d.r, d.s});
  py::array_t<float> db = bias_grad ? empty({d.k}) : py::array_t<float>();
  const float *px = static_cast<const float*>(x.data()), *pdy = static_cast<const float*>(dy.data());
  float *pdw = dw.mutable_data(), *pdb = bias_grad ? db.mutable_data() : nullptr;
  {
    py::gil_scoped_release release;
    anycl::conv2d_backward_weights(*rt, d, px, pdy, pdw, pdb, algo);
  }
  if (bias_grad) return py::make_tuple(dw, db);
  return std::move(dw);
}

}  // namespace

void bind_conv(py::module_& m) {
  using namespace pybind11::literals;
  m.def(
      "conv2d",
      [](const py::object& x, const py::object& w, const py::object& bias, const py::object& stride,
         const py::object& padding, const py::object& dilation, std::size_t groups, bool relu, const std::string& algo,
         const py::object& runtime) {
        return conv2d(x, w, bias, Geometry{"anycl.conv2d", stride, padding, dilation, groups, relu}, algo, runtime);
      },
      "x"_a, "w"_a, "bias"_a = py::none(), py::kw_only(), "stride"_a = 1, "padding"_a = 0, "dilation"_a = 1,
      "groups"_a = 1, "relu"_a = false, "algo"_a = "auto", "runtime"_a = py::none(),
      "y = conv2d(x, w) + bias (then max(0, .) if relu): x (N, C, H, W), w (K, C/groups, R, S), float32.");
  m.def(
      "conv2d_backward_data",
      [](const py::object& dy, const py::object& w, const py::object& x_shape, const py::object& stride,
         const py::object& padding, const py::object& dilation, std::size_t groups, const std::string& algo,
         const py::object& runtime) {
        return backward_data(dy, w, x_shape,
                             Geometry{"anycl.conv2d_backward_data", stride, padding, dilation, groups, false}, algo, runtime);
      },
      "dy"_a, "w"_a, "x_shape"_a, py::kw_only(), "stride"_a = 1, "padding"_a = 0, "dilation"_a = 1, "groups"_a = 1,
      "algo"_a = "auto", "runtime"_a = py::none(), "dx, the gradient of the convolution's input x of shape x_shape.");
  m.def(
      "conv2d_backward_weights",
      [](const py::object& x, const py::object& dy, const py::object& w_shape, bool bias_grad, const py::object& stride,
         const py::object& padding, const py::object& dilation, std::size_t groups, const std::string& algo,
         const py::object& runtime) {
        return backward_weights(x, dy, w_shape, bias_grad,
                                Geometry{"anycl.conv2d_backward_weights", stride, padding, dilation, groups, false}, algo,
                                runtime);
      },
      "x"_a, "dy"_a, "w_shape"_a, py::kw_only(), "bias_grad"_a = false, "stride"_a = 1, "padding"_a = 0,
      "dilation"_a = 1, "groups"_a = 1, "algo"_a = "auto", "runtime"_a = py::none(),
      "dw of shape w_shape, the gradient of the weights; (dw, dbias) when bias_grad.");
}

}  // namespace anycl_py
