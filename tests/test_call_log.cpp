// Diagnostics knobs (docs/reliability.md, "Environment knobs"): ANYCL_LOG=calls prints the
// descriptor `anycl-bench run` replays (checked as text and by replaying it); ANYCL_CHECK_NUMERICS.
#include <catch2/catch.hpp>

#include <limits>
#include <sstream>
#include <string>
#include <vector>

#include "anycl/anycl.hpp"
#include "support.hpp"

namespace {

using anycl_test::ScopedEnv;
using anycl_test::StderrCapture;

anycl::Runtime& runtime() {
  static anycl::Runtime rt("");
  return rt;
}

// The descriptor (and any options) after "anycl: call ", from the only such line in `err`.
std::string logged_call(const std::string& err) {
  const std::string tag = "anycl: call ";
  const std::size_t at = err.find(tag);
  REQUIRE(at != std::string::npos);
  REQUIRE(err.find(tag, at + 1) == std::string::npos);
  const std::size_t end = err.find('\n', at);
  return err.substr(at + tag.size(), end - at - tag.size());
}

// `anycl-bench run --mode=correctness` on the logged words must pass.
void require_replays(const std::string& logged) {
  std::vector<std::string> argv{ANYCL_BENCH_EXE, "run", "--mode=correctness"};
  std::istringstream words(logged);
  for (std::string w; words >> w;) argv.push_back(w);
  const anycl_test::ProcessResult r = anycl_test::run_process(argv, {{"ANYCL_LOG", std::nullopt}});
  INFO(r.out << r.err);
  REQUIRE(r.exit_code == 0);
}

// A padded, transposed GEMM with alpha and beta through the host-pointer API.
std::string log_of_gemm() {
  anycl::GemmShape s;
  s.trans_b = anycl::Transpose::Yes;
  s.m = 5, s.n = 7, s.k = 9, s.lda = 12, s.ldb = 11, s.ldc = 8;
  std::vector<float> a(5 * 12, 1.f), b(7 * 11, 2.f), c(5 * 8, 0.f);
  StderrCapture capture;
  anycl::gemm<float>(runtime(), s, 2.f, a.data(), b.data(), 0.5f, c.data());
  return capture.text();
}

anycl::Conv2d asymmetric_conv() {
  anycl::Conv2d d;
  d.n = 1, d.c = 3, d.h = 7, d.w = 6, d.k = 4, d.r = d.s = 3;
  d.pad_top = 1, d.pad_left = 0, d.pad_bottom = 2, d.pad_right = 1;
  d.relu = true;
  return d;
}

std::string log_of_conv(anycl::ConvAlgo algo, anycl::ConvLayout layout = anycl::ConvLayout::Nchw) {
  anycl::Conv2d d = asymmetric_conv();
  d.layout = layout;
  d.validate();
  std::vector<float> x(d.x_size(), 1.f), w(d.w_size(), 0.5f), bias(d.k, -1.f), y(d.y_size());
  StderrCapture capture;
  anycl::conv2d_forward(runtime(), d, x.data(), w.data(), bias.data(), y.data(), algo);
  return capture.text();
}

}  // namespace

TEST_CASE("ANYCL_LOG=calls prints a GEMM as the descriptor anycl-bench replays", "[call_log]") {
  ScopedEnv log("ANYCL_LOG", std::string("warn,calls"));
  const std::string logged = logged_call(log_of_gemm());
  CHECK(logged == "gemm:s:RNT:m5n7k9:lda12:ldb11:ldc8:alpha2:beta0.5");
  require_replays(logged);
}

TEST_CASE("ANYCL_LOG=calls prints a buffer GEMM's offsets and precision", "[call_log]") {
  ScopedEnv log("ANYCL_LOG", std::string("calls"));
  anycl::GemmShape s;
  s.layout = anycl::Layout::ColMajor;
  s.trans_a = anycl::Transpose::Yes;
  s.m = 3, s.n = 4, s.k = 2, s.lda = 2, s.ldb = 2, s.ldc = 3;
  const anycl::Buffer a = anycl_test::upload(runtime(), std::vector<float>(20, 1.f));
  const anycl::Buffer b = anycl_test::upload(runtime(), std::vector<float>(20, 1.f));
  const anycl::Buffer c = anycl_test::upload(runtime(), std::vector<float>(20, 0.f));
  StderrCapture capture;
  anycl::gemm<float>(runtime(), s, -1.f, a, 1, b, 0, 0.f, c, 2).wait();
  const std::string logged = logged_call(capture.text());
  CHECK(logged == "gemm:s:CTN:m3n4k2:alpha-1:ao1:co2");
  require_replays(logged);
}

TEST_CASE("ANYCL_LOG=calls prints a convolution with asymmetric padding, bias and ReLU", "[call_log]") {
  ScopedEnv log("ANYCL_LOG", std::string("calls"));
  const std::string logged = logged_call(log_of_conv(anycl::ConvAlgo::Auto));
  CHECK(logged == "conv:fwd:n1c3h7w6k4r3s3:p1_0_2_1:s1:d1:g1:bias:relu");
  require_replays(logged);
  const std::string forced = logged_call(log_of_conv(anycl::ConvAlgo::Direct));
  CHECK(forced == "conv:fwd:n1c3h7w6k4r3s3:p1_0_2_1:s1:d1:g1:bias:relu --algo direct");
  require_replays(forced);
  const std::string channels_last = logged_call(log_of_conv(anycl::ConvAlgo::Auto, anycl::ConvLayout::Nhwc));
  CHECK(channels_last == "conv:fwd:n1c3h7w6k4r3s3:p1_0_2_1:s1:d1:g1:bias:relu:nhwc");
  require_replays(channels_last);
}

TEST_CASE("ANYCL_LOG without calls prints no call lines", "[call_log]") {
  for (const char* value : {"warn", "info", "1", "off"}) {
    ScopedEnv log("ANYCL_LOG", std::string(value));
    INFO("ANYCL_LOG=" << value);
    CHECK(log_of_gemm().find("anycl: call") == std::string::npos);
  }
}

// ANYCL_CHECK_NUMERICS=1 is read when a runtime is created, so these cases make their own.
namespace {

std::size_t count_of(const std::string& text, const std::string& part) {
  std::size_t n = 0;
  for (std::size_t at = text.find(part); at != std::string::npos; at = text.find(part, at + 1)) ++n;
  return n;
}

}  // namespace

TEST_CASE("ANYCL_CHECK_NUMERICS=1 reports a NaN in a host GEMM's A once, naming a", "[check_numerics]") {
  ScopedEnv check("ANYCL_CHECK_NUMERICS", std::string("1"));
  ScopedEnv log("ANYCL_LOG", std::nullopt);
  anycl::Runtime rt("");
  anycl::GemmShape s;
  s.m = 3, s.n = 2, s.k = 4, s.lda = 6, s.ldb = 2, s.ldc = 2;
  std::vector<float> a(3 * 6, 1.f), b(4 * 2, 1.f), c(3 * 2, 0.f);
  a[5] = std::numeric_limits<float>::infinity();  // ld padding: not an element, not reported
  a[6 + 2] = std::numeric_limits<float>::quiet_NaN();
  StderrCapture capture;
  anycl::gemm<float>(rt, s, 1.f, a.data(), b.data(), 0.f, c.data());
  const std::string err = capture.text();
  INFO(err);
  CHECK(count_of(err, "ANYCL_CHECK_NUMERICS") == 2);  // input a, then output c
  CHECK(count_of(err, "call gemm:s:RNN:m3n2k4:lda6: input a holds NaN or Inf, first at element 8") == 1);
  CHECK(count_of(err, "output c holds NaN or Inf, first at element 2") == 1);
}

TEST_CASE("ANYCL_CHECK_NUMERICS=1 reads device buffers back and reports a convolution's output", "[check_numerics]") {
  ScopedEnv check("ANYCL_CHECK_NUMERICS", std::string("1"));
  anycl::Runtime rt("");
  anycl::Conv2d d;
  d.c = 2, d.h = d.w = 4, d.k = 3, d.r = d.s = 3, d.pad_top = d.pad_left = d.pad_bottom = d.pad_right = 1;
  std::vector<float> xs(d.x_size(), 1.f);
  xs[7] = std::numeric_limits<float>::infinity();
  const anycl::Buffer x = anycl_test::upload(rt, xs);
  const anycl::Buffer w = anycl_test::upload(rt, std::vector<float>(d.w_size(), 1.f));
  const anycl::Buffer y = anycl_test::upload(rt, std::vector<float>(d.y_size(), 0.f));
  StderrCapture capture;
  anycl::conv2d_forward(rt, d, x, w, nullptr, y).wait();
  const std::string err = capture.text();
  INFO(err);
  CHECK(count_of(err, "call conv:fwd:n1c2h4w4k3r3s3:p1:s1:d1:g1: input x holds NaN or Inf, first at element 7") == 1);
  CHECK(count_of(err, ": output y holds NaN or Inf") == 1);
  CHECK(count_of(err, "input w") == 0);
}

TEST_CASE("ANYCL_CHECK_NUMERICS unset: no scan, no line", "[check_numerics]") {
  ScopedEnv check("ANYCL_CHECK_NUMERICS", std::nullopt);
  anycl::Runtime rt("");
  anycl::GemmShape s;
  s.m = s.n = s.k = s.lda = s.ldb = s.ldc = 2;
  std::vector<float> a(4, std::numeric_limits<float>::quiet_NaN()), b(4, 1.f), c(4);
  StderrCapture capture;
  anycl::gemm<float>(rt, s, 1.f, a.data(), b.data(), 0.f, c.data());
  CHECK(capture.text().find("ANYCL_CHECK_NUMERICS") == std::string::npos);
}
