// anycl-compile: builds every anycl kernel family for the chosen devices and writes the program
// binaries that compiler-less devices (FPGAs) load at start-up: DIR/<device>/<family>.bin.
#include <cstring>
#include <filesystem>
#include <iostream>

#include "anycl/anycl.hpp"
#include "runtime/kernel_library.hpp"
#include "runtime/program_binary.hpp"
#include "runtime/runtime_impl.hpp"

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
  anycl::Runtime rt(opts);
  auto& impl = rt.impl();
  for (std::size_t d = 0; d < impl.size(); ++d) {
    const auto& slot = impl.slot(d);
    for (const auto& fam : anycl::detail::kernel_families()) {
      if (!slot.has_program(fam.variant)) continue;
      const auto* shared = fam.layout_from.empty() ? nullptr : &slot.program(fam.layout_from);
      const auto plan = anycl::detail::plan_build(impl.build_context(), fam, slot.info, shared);
      const auto bin = anycl::detail::extract_binary(slot.program(fam.variant), plan, slot.info, slot.device.id());
      const std::string path = anycl::detail::prebuilt_path(out_dir, slot.info, fam.variant);
      std::filesystem::create_directories(std::filesystem::path(path).parent_path());
      std::string why;
      if (bin.payload.empty() || !anycl::detail::write_file_atomic(path, anycl::detail::serialize(bin), &why)) {
        std::cerr << "anycl-compile: " << (why.empty() ? "driver returned no binary for " + path : why) << "\n";
        return 1;
      }
      std::cout << path << "  (" << bin.payload.size() << " bytes)\n";
    }
  }
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
