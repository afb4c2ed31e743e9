// anycl.gemm on NumPy arrays: operands in C or Fortran order (or any layout with one unit stride)
// go to the C++ API in place; other strides are copied once.
#include <cstdlib>
#include <optional>

#include "array_py.hpp"

namespace anycl_py {
namespace {

constexpr const char* kGemm = "anycl.gemm";

// One operand as the C++ API sees it, in the call's layout.
struct Operand {
  py::array array;  // the array read or written (a contiguous copy when the original did not fit)
  bool trans = false;
  std::size_t ld = 1, batch_stride = 0;
};

// Element strides of the matrix dimensions of `a` (the last two), if whole elements.
std::optional<std::pair<py::ssize_t, py::ssize_t>> element_strides(const py::array& a) {
  const auto item = a.itemsize();
  const auto sr = a.strides(a.ndim() - 2), sc = a.strides(a.ndim() - 1);
  if (sr < 0 || sc < 0 || sr % item || sc % item || reinterpret_cast<std::uintptr_t>(a.data()) % std::uintptr_t(item)) return std::nullopt;
  return std::make_pair(sr / item, sc / item);
}

// The leading dimension if the (fast, slow) pair of (extent, stride) fits: unit fast stride and
// a slow stride at least the fast extent (a dimension of extent <= 1 fits any stride).
std::optional<std::size_t> fits(py::ssize_t fast_n, py::ssize_t fast_s, py::ssize_t slow_n, py::ssize_t slow_s) {
  if (fast_n > 1 && fast_s != 1) return std::nullopt;
  const py::ssize_t least = std::max<py::ssize_t>(fast_n, 1);
  const py::ssize_t ld = slow_n > 1 ? slow_s : least;
  if (ld < least) return std::nullopt;
  return std::size_t(ld);
}

// Describes `a` (rank 2 or 3) for a call in `layout`, with the caller's transpose flag.
std::optional<Operand> describe(const py::array& a, anycl::Layout layout, bool trans) {
  const auto strides = element_strides(a);
  if (!strides) return std::nullopt;
  const auto [sr, sc] = *strides;
  const auto rows = a.shape(a.ndim() - 2), cols = a.shape(a.ndim() - 1);
  Operand op{a, trans, 1, 0};
  if (a.ndim() == 3) {
    if (a.strides(0) < 0 || a.strides(0) % a.itemsize()) return std::nullopt;
    op.batch_stride = std::size_t(a.strides(0) / a.itemsize());
  }
  const bool row = layout == anycl::Layout::RowMajor;
  if (rows == 0 || cols == 0) {  // no elements: any leading dimension at its minimum
    op.ld = std::size_t(std::max<py::ssize_t>(row ? cols : rows, 1));
    return op;
  }
  if (auto ld = row ? fits(cols, sc, rows, sr) : fits(rows, sr, cols, sc)) {
    op.ld = *ld;
    return op;
  }
  if (auto ld = row ? fits(rows, sr, cols, sc) : fits(cols, sc, rows, sr)) {  // stored transposed
    op.ld = *ld, op.trans = !trans;
    return op;
  }
  return std::nullopt;
}

Operand describe_or_copy(const py::array& a, anycl::Layout layout, bool trans) {
  if (auto op = describe(a, layout, trans)) return *op;
  if (auto op = describe(py::array::ensure(a, py::array::c_style), layout, trans)) return *op;
  throw anycl::Error(ANYCL_ERROR_INTERNAL, "anycl.gemm: a C-ordered copy of an operand has no usable layout");
}

// The output's layout: row-major unless C fits only column-major. C must not be written through
// overlapping matrices, so a batch stride below one matrix's extent is copied too.
std::pair<anycl::Layout, Operand> describe_c(const py::array& c, std::size_t m, std::size_t n) {
  for (auto layout : {anycl::Layout::RowMajor, anycl::Layout::ColMajor}) {
    auto op = describe(c, layout, false);
    if (!op || op->trans) continue;
    const std::size_t inner = layout == anycl::Layout::RowMajor ? n : m, outer = m + n - inner;
    const std::size_t extent = outer == 0 || inner == 0 ? 0 : (outer - 1) * op->ld + inner;
    if (c.ndim() == 2 || c.shape(0) <= 1 || op->batch_stride >= extent) return {layout, *op};
  }
  return {anycl::Layout::RowMajor, Operand{py::array::ensure(c, py::array::c_style), false, n ? n : 1, m * n}};
}

// The bytes `a` spans, [first, last).
std::pair<std::uintptr_t, std::uintptr_t> byte_range(const py::array& a) {
  auto first = reinterpret_cast<std::uintptr_t>(a.data()), last = first;
  for (py::ssize_t i = 0; i < a.ndim(); ++i) {
    if (a.shape(i) == 0) return {first, first};
    const auto reach = std::uintptr_t(std::abs(a.strides(i)) * (a.shape(i) - 1));
    if (a.strides(i) < 0)
      first -= reach;
    else
      last += reach;
  }
  return {first, last + std::uintptr_t(a.itemsize())};
}

// An input that shares memory with the output is read from a copy (the C++ API may write C
// before it has read all of A and B).
py::array apart_from(const py::array& input, const py::array& output) {
  const auto [i0, i1] = byte_range(input);
  const auto [o0, o1] = byte_range(output);
  if (i0 < o1 && o0 < i1) return py::array(input.attr("copy")());
  return input;
}

py::ssize_t dim(const py::array& a, int from_end) { return a.shape(a.ndim() - from_end); }

void check_rank(const py::array& a, const char* arg) {
  if (a.ndim() != 2 && a.ndim() != 3) invalid(kGemm, arg, "rank " + std::to_string(a.ndim()) + ", expected 2 or 3 (a batch)");
}

template <typename T>
py::array run(const std::shared_ptr<anycl::Runtime>& rt, const py::array& a, const py::array& b, py::object c_obj,
              double alpha, double beta, bool trans_a, bool trans_b) {
  const std::size_t m = dim(a, trans_a ? 1 : 2), k = dim(a, trans_a ? 2 : 1);
  const std::size_t kb = dim(b, trans_b ? 1 : 2), n = dim(b, trans_b ? 2 : 1);
  if (kb != k)
    invalid(kGemm, "b", "shape " + shape_text(b) + " does not match a's " + shape_text(a) + ": op(a) has k = " +
                            std::to_string(k) + " columns, op(b) has " + std::to_string(kb) + " rows");
  const std::size_t batch = std::max(a.ndim() == 3 ? dim(a, 3) : 1, b.ndim() == 3 ? dim(b, 3) : 1);
  const bool batched = a.ndim() == 3 || b.ndim() == 3;
  if ((a.ndim() == 3 && std::size_t(dim(a, 3)) != batch) || (b.ndim() == 3 && std::size_t(dim(b, 3)) != batch))
    invalid(kGemm, "b", "batch of " + shape_text(b) + " does not match a's " + shape_text(a));
  std::vector<py::ssize_t> c_shape{py::ssize_t(m), py::ssize_t(n)};
  if (batched) c_shape.insert(c_shape.begin(), py::ssize_t(batch));
  py::array c;
  if (c_obj.is_none()) {
    if (beta != 0) invalid(kGemm, "beta", "is " + std::to_string(beta) + " but no c was given to scale");
    c = py::array_t<T>(c_shape);
  } else {
    c = float_array(c_obj, kGemm, "c", sizeof(T) == 4 ? 'f' : 'd');
    if (std::vector<py::ssize_t>(c.shape(), c.shape() + c.ndim()) != c_shape) {
      invalid(kGemm, "c", "shape " + shape_text(c) + ", expected " + std::string(py::str(py::tuple(py::cast(c_shape)))));
    }
    if (!c.writeable()) invalid(kGemm, "c", "is read-only");
  }
  auto [layout, oc] = describe_c(c, m, n);
  if (oc.array.ptr() != c.ptr() && beta == 0) oc.array = py::array_t<T>(c_shape);  // C is not read
  const Operand oa = describe_or_copy(apart_from(a, oc.array), layout, trans_a);
  const Operand ob = describe_or_copy(apart_from(b, oc.array), layout, trans_b);
  anycl::GemmShape s;
  s.layout = layout;
  s.trans_a = oa.trans ? anycl::Transpose::Yes : anycl::Transpose::No;
  s.trans_b = ob.trans ? anycl::Transpose::Yes : anycl::Transpose::No;
  s.m = m, s.n = n, s.k = k, s.lda = oa.ld, s.ldb = ob.ld, s.ldc = oc.ld;
  s.batch = batch, s.stride_a = oa.batch_stride, s.stride_b = ob.batch_stride, s.stride_c = oc.batch_stride;
  const T* pa = static_cast<const T*>(oa.array.data());
  const T* pb = static_cast<const T*>(ob.array.data());
  T* pc = static_cast<T*>(oc.array.mutable_data());
  {
    py::gil_scoped_release release;
    anycl::gemm<T>(*rt, s, T(alpha), pa, pb, T(beta), pc);
  }
  if (oc.array.ptr() != c.ptr()) py::module_::import("numpy").attr("copyto")(c, oc.array);
  return c;
}

// Operands as (rows, cols) of their last two dimensions, with the batch (1 for rank 2).
struct Dims {
  std::size_t batch, rows, cols;
};

Dims dims_of(const Array& x, const char* arg) {
  const auto& s = x.shape();
  if (s.size() != 2 && s.size() != 3)
    invalid(kGemm, arg, "rank " + std::to_string(s.size()) + ", expected 2 or 3 (a batch)");
  return {s.size() == 3 ? std::size_t(s[0]) : 1, std::size_t(s[s.size() - 2]), std::size_t(s.back())};
}

// gemm on anycl.Arrays: their buffers in place, no host copy; the result is an Array.
py::object gemm_arrays(const py::object& a_obj, const py::object& b_obj, const py::object& c_obj, double alpha,
                       double beta, bool trans_a, bool trans_b, const py::object& runtime) {
  const Array& a = array_arg(a_obj, kGemm, "a");
  const Array& b = array_arg(b_obj, kGemm, "b", &a);
  const Dims da = dims_of(a, "a"), db = dims_of(b, "b");
  if (b.code() != a.code()) invalid(kGemm, "b", "dtype " + dtype_name(b.code()) + ", a is " + dtype_name(a.code()));
  finite(alpha, kGemm, "alpha"), finite(beta, kGemm, "beta");
  const std::size_t m = trans_a ? da.cols : da.rows, k = trans_a ? da.rows : da.cols;
  const std::size_t kb = trans_b ? db.cols : db.rows, n = trans_b ? db.rows : db.cols;
  if (kb != k)
    invalid(kGemm, "b", "shape " + shape_text(b.shape()) + " does not match a's " + shape_text(a.shape()) +
                            ": op(a) has k = " + std::to_string(k) + " columns, op(b) has " + std::to_string(kb) + " rows");
  const bool batched = a.shape().size() == 3 || b.shape().size() == 3;
  const std::size_t batch = std::max(da.batch, db.batch);
  if ((a.shape().size() == 3 && da.batch != batch) || (b.shape().size() == 3 && db.batch != batch))
    invalid(kGemm, "b", "batch of " + shape_text(b.shape()) + " does not match a's " + shape_text(a.shape()));
  auto rt = runtime_of(a, runtime, kGemm);
  std::vector<py::ssize_t> c_shape{py::ssize_t(m), py::ssize_t(n)};
  if (batched) c_shape.insert(c_shape.begin(), py::ssize_t(batch));
  py::object c_out = c_obj;
  if (c_obj.is_none()) {
    if (beta != 0) invalid(kGemm, "beta", "is " + std::to_string(beta) + " but no c was given to scale");
    c_out = py::cast(Array(a.handle(), a.device(), a.code(), c_shape));
  }
  const Array& c = array_arg(c_out, kGemm, "c", &a);
  if (c.code() != a.code()) invalid(kGemm, "c", "dtype " + dtype_name(c.code()) + ", a is " + dtype_name(a.code()));
  if (c.shape() != c_shape) invalid(kGemm, "c", "shape " + shape_text(c.shape()) + ", expected " + shape_text(c_shape));
  for (const auto& [x, name] : {std::pair<const Array*, const char*>{&a, "a"}, {&b, "b"}})
    if (x->overlaps(c))
      invalid(kGemm, "c", std::string("is the same memory as '") + name + "' (the call may write c before reading it)");
  anycl::GemmShape s;
  s.trans_a = trans_a ? anycl::Transpose::Yes : anycl::Transpose::No;
  s.trans_b = trans_b ? anycl::Transpose::Yes : anycl::Transpose::No;
  s.m = m, s.n = n, s.k = k, s.batch = batch;
  s.lda = std::max<std::size_t>(da.cols, 1), s.ldb = std::max<std::size_t>(db.cols, 1), s.ldc = std::max<std::size_t>(n, 1);
  s.stride_a = a.shape().size() == 3 ? da.rows * da.cols : 0, s.stride_b = b.shape().size() == 3 ? db.rows * db.cols : 0;
  s.stride_c = batched ? m * n : 0;
  py::gil_scoped_release release;
  if (a.code() == 'f')
    anycl::gemm<float>(*rt, s, float(alpha), a.buffer(), a.offset(), b.buffer(), b.offset(), float(beta), c.buffer(),
                       c.offset()).wait();
  else
    anycl::gemm<double>(*rt, s, alpha, a.buffer(), a.offset(), b.buffer(), b.offset(), beta, c.buffer(), c.offset())
        .wait();
  return c_out;
}

py::object gemm(const py::object& a_obj, const py::object& b_obj, const py::object& c, double alpha, double beta,
                bool trans_a, bool trans_b, const py::object& runtime) {
  // NumPy operands first: the Array checks (type lookups) are left to calls that need them.
  const bool numpy = py::isinstance<py::array>(a_obj) && py::isinstance<py::array>(b_obj) &&
                     (c.is_none() || py::isinstance<py::array>(c));
  if (!numpy && (as_array(a_obj) || as_array(b_obj) || as_array(c)))
    return gemm_arrays(a_obj, b_obj, c, alpha, beta, trans_a, trans_b, runtime);
  const py::array a = float_array(a_obj, kGemm, "a");
  const char code = a.dtype().kind() == 'f' && a.itemsize() == 4 ? 'f' : 'd';
  const py::array b = float_array(b_obj, kGemm, "b", code);
  check_rank(a, "a"), check_rank(b, "b");
  finite(alpha, kGemm, "alpha"), finite(beta, kGemm, "beta");
  auto rt = handle_of(runtime)->get(kGemm);
  return code == 'f' ? run<float>(rt, a, b, c, alpha, beta, trans_a, trans_b)
                     : run<double>(rt, a, b, c, alpha, beta, trans_a, trans_b);
}

}  // namespace

void bind_gemm(py::module_& m) {
  using namespace pybind11::literals;
  m.def("gemm", &gemm, "a"_a, "b"_a, "c"_a = py::none(), py::kw_only(), "alpha"_a = 1.0, "beta"_a = 0.0,
        "trans_a"_a = false, "trans_b"_a = false, "runtime"_a = py::none(),
        R"(C = alpha * op(a) @ op(b) + beta * c, float32 or float64, on the runtime's devices.

On NumPy arrays:

a, b: 2-D arrays, or 3-D for a batch (a 2-D operand is shared by every item). c: the output,
written in place and returned; None allocates it (beta must then be 0). Operands in C or Fortran
order, or any layout with one unit stride, are used in place; other strides are copied once.
On anycl.Arrays (all operands): their device memory in place, the result an Array (c, or a new
one), nothing copied through the host.)");
}

}  // namespace anycl_py
