// anycl-compile: builds every anycl kernel family for the chosen devices and writes the program
// binaries that compiler-less devices (FPGAs) load at start-up: DIR/<device>/<family>.bin.
#include <cstring>
#include <iostream>

#include "anycl/anycl.hpp"

namespace {

int usage(const std::string& why) {
  std::cerr << "anycl-compile: " << why << "\nusage: anycl-compile --out DIR [--device SPEC]\n"
            << "Writes DIR/<device name>/<family>.bin; point ANYCL_BINARY_PATH at DIR, or ship DIR as\n"
            << "<kernel dir>/binaries.\n";
  return 2;
}

int compile(const std::string& spec, const std::string& out_dir) {
  anycl::RuntimeOptions opts = anycl::RuntimeOptions::from_env(spec);
  opts.binary_only = false;  // this tool is what makes binaries: it must compile
  const anycl::Runtime rt(opts);
  for (const std::string& path : anycl::write_program_binaries(rt, out_dir)) std::cout << path << "\n";
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  std::string spec, out;
  for (int i = 1; i < argc; ++i) {
    if (!std::strcmp(argv[i], "--device") && i + 1 < argc) spec = argv[++i];
    else if (!std::strcmp(argv[i], "--out") && i + 1 < argc) out = argv[++i];
    else return usage(std::string("unknown argument ") + argv[i]);
  }
  if (out.empty()) return usage("--out DIR is required");
  try {
    return compile(spec, out);
  } catch (const std::exception& e) {
    std::cerr << "anycl-compile: " << e.what() << "\n";
    return 1;
  }
}
