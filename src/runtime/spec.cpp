#include "runtime/spec.hpp"

#include <algorithm>
#include <cctype>

#include "runtime/error.hpp"

namespace anycl::detail {
namespace {

std::string trim(const std::string& s) {
  const auto b = s.find_first_not_of(" \t");
  if (b == std::string::npos) return {};
  return s.substr(b, s.find_last_not_of(" \t") - b + 1);
}

std::string lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return std::tolower(c); });
  return s;
}

bool all_digits(const std::string& s) {
  return !s.empty() && std::all_of(s.begin(), s.end(), [](unsigned char c) { return std::isdigit(c); });
}

int type_rank(const std::string& type) {
  if (type == "gpu") return 3;
  if (type == "accelerator") return 2;
  if (type == "cpu") return 1;
  return 0;
}

std::vector<std::size_t> match_item(const std::string& body, const Discovery& found) {
  std::vector<std::size_t> out;
  const std::string word = lower(body);
  if (word.empty() || word == "default") return {best_device(found)};
  const auto colon = word.find(':');
  if (colon != std::string::npos && all_digits(word.substr(0, colon))) {
    if (!all_digits(word.substr(colon + 1)))
      fail(ANYCL_ERROR_INVALID_ARGUMENT, "device spec item '" + body + "': expected P:D (platform and device "
                                         "numbers as anycl-query prints them)");
    // More digits than any real index: a typo, and std::stoul would throw out_of_range.
    if (colon > 6 || word.size() - colon - 1 > 6)
      fail(ANYCL_ERROR_INVALID_ARGUMENT, "device spec item '" + body + "': platform or device number too large");
    const auto p = std::stoul(word.substr(0, colon)), d = std::stoul(word.substr(colon + 1));
    for (std::size_t i = 0; i < found.devices.size(); ++i)
      if (found.devices[i].platform_index == p && found.devices[i].device_index == d) out.push_back(i);
    return out;
  }
  const bool is_type = word == "gpu" || word == "cpu" || word == "accelerator" || word == "all";
  for (std::size_t i = 0; i < found.devices.size(); ++i) {
    const DeviceInfo& info = found.devices[i].info;
    const bool hit = is_type ? (word == "all" || info.type == word)
                             : lower(info.name).find(word) != std::string::npos ||
                                   lower(info.platform_name).find(word) != std::string::npos ||
                                   lower(info.platform_vendor).find(word) != std::string::npos;
    if (hit) out.push_back(i);
  }
  return out;
}

unsigned parse_partition(const std::string& item, const std::string& text) {
  if (!all_digits(text) || text.size() > 4 || std::stoul(text) == 0)
    fail(ANYCL_ERROR_INVALID_ARGUMENT,
         "device spec item '" + item + "': '/" + text + "' must be a positive sub-device count");
  return static_cast<unsigned>(std::stoul(text));
}

// A device named more than once keeps its first position and the largest sub-device count
// (whole = 0), so "cpu,cpu/2" and "cpu/2,cpu" select the same devices.
void add_selection(std::vector<Selection>& out, std::size_t device, unsigned parts) {
  const auto seen = std::find_if(out.begin(), out.end(), [&](const Selection& s) { return s.device == device; });
  if (seen == out.end())
    out.push_back({device, parts});
  else
    seen->sub_devices = std::max(seen->sub_devices, parts);
}

}  // namespace

std::size_t best_device(const Discovery& found) {
  std::size_t best = 0;
  auto score = [&](std::size_t i) {
    const DeviceInfo& d = found.devices[i].info;
    return std::make_pair(type_rank(d.type), std::uint64_t(d.compute_units) * d.clock_mhz);
  };
  for (std::size_t i = 1; i < found.devices.size(); ++i)
    if (score(i) > score(best)) best = i;
  return best;
}

std::string describe_devices(const Discovery& found) {
  if (found.devices.empty()) return "no OpenCL devices were found";
  std::string s = "available devices:";
  for (const auto& d : found.devices)
    s += "\n  " + d.info.id + " " + d.info.name + " [" + d.info.platform_name + ", " + d.info.type + "]";
  return s;
}

std::vector<Selection> select_devices(const std::string& spec, const Discovery& found) {
  if (found.devices.empty()) {
    std::string why;
    for (const auto& w : found.warnings) why += "; " + w;
    fail(ANYCL_ERROR_NO_DEVICE, "no OpenCL platform with a usable device was found (is an ICD "
                                "such as pocl-opencl-icd installed?)" + why);
  }
  std::vector<Selection> out;
  std::string rest = spec;
  bool more = true;
  while (more) {
    const auto comma = rest.find(',');
    const std::string item = trim(rest.substr(0, comma));
    more = comma != std::string::npos;
    rest = more ? rest.substr(comma + 1) : "";
    // An empty item anywhere in a list ("cpu,", ",cpu", "cpu,,gpu") is a typo, not "default".
    if (item.empty() && spec.find(',') != std::string::npos)
      fail(ANYCL_ERROR_INVALID_ARGUMENT, "device spec '" + spec + "' has an empty item");
    const auto slash = item.rfind('/');
    const std::string body = trim(item.substr(0, slash));
    const unsigned parts = slash == std::string::npos ? 0 : parse_partition(item, item.substr(slash + 1));
    const auto hits = match_item(body, found);
    if (hits.empty())
      fail(ANYCL_ERROR_NO_DEVICE,
           "device spec '" + spec + "': '" + item + "' matches no device; " + describe_devices(found));
    for (auto h : hits) add_selection(out, h, parts);
  }
  return out;
}

}  // namespace anycl::detail

namespace anycl {

std::vector<DeviceInfo> match_devices(const std::string& spec) {
  const detail::Discovery found = detail::discover_devices();
  std::vector<DeviceInfo> out;
  for (const detail::Selection& sel : detail::select_devices(spec, found)) out.push_back(found.devices[sel.device].info);
  return out;
}

}  // namespace anycl
