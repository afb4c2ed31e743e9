#include "runtime/search_space.hpp"

#include <nlohmann/json.hpp>

#include "runtime/error.hpp"
#include "runtime/program_binary.hpp"

namespace anycl::detail {
namespace {

using nlohmann::json;

long product(const ParamSet& p, const std::vector<std::string>& names) {
  long v = 1;
  for (const std::string& n : names) v *= p.at(n);
  return v;
}

std::vector<std::string> names_of(const json& j, const std::string& where) {
  if (!j.is_array() || j.empty()) throw std::runtime_error(where + ": expected a non-empty array of tunable names");
  std::vector<std::string> out;
  for (const json& n : j) {
    if (!n.is_string()) throw std::runtime_error(where + ": expected tunable names");
    out.push_back(n.get<std::string>());
  }
  return out;
}

SpaceConstraint parse_constraint(const json& c) {
  using Kind = SpaceConstraint::Kind;
  if (c.contains("equal")) return {Kind::Equal, {names_of(c["equal"], "equal")}};
  if (c.contains("multiple")) return {Kind::Multiple, {names_of(c["multiple"], "multiple"), names_of(c.value("of", json()), "of")}};
  if (c.contains("work_group")) return {Kind::WorkGroup, {names_of(c["work_group"], "work_group")}};
  if (c.contains("local_memory") && c["local_memory"].is_array()) {
    SpaceConstraint out{Kind::LocalMemory, {}};
    for (const json& t : c["local_memory"]) out.terms.push_back(names_of(t, "local_memory"));
    return out;
  }
  throw std::runtime_error("a constraint is none of equal, multiple, local_memory, work_group: " + c.dump());
}

SearchSpace parse_space(const json& doc, const std::string& family) {
  SearchSpace s;
  s.family = family;
  if (!doc.is_object() || !doc.contains("values") || !doc["values"].is_object())
    throw std::runtime_error("expected an object with 'values'");
  for (const auto& [name, list] : doc["values"].items()) {
    std::vector<long> vs;
    if (!list.is_array() || list.empty()) throw std::runtime_error(name + ": expected a non-empty array of integers");
    for (const json& v : list) {
      if (!v.is_number_integer()) throw std::runtime_error(name + ": expected integers");
      vs.push_back(v.get<long>());
    }
    s.values.emplace_back(name, vs);
  }
  for (const json& c : doc.value("constraints", json::array())) s.constraints.push_back(parse_constraint(c));
  ParamSet any;
  for (const auto& [name, vs] : s.values) any[name] = vs.front();
  for (const SpaceConstraint& c : s.constraints)
    for (const auto& term : c.terms)
      for (const std::string& n : term)
        if (!any.count(n)) throw std::runtime_error("constraint names " + n + ", which has no values");
  return s;
}

}  // namespace

bool SearchSpace::allows(const ParamSet& p, const DeviceInfo& device, std::size_t elem_bytes) const {
  using Kind = SpaceConstraint::Kind;
  for (const SpaceConstraint& c : constraints) {
    if (c.kind == Kind::Equal && p.at(c.terms[0].front()) != p.at(c.terms[0].back())) return false;
    if (c.kind == Kind::Multiple && product(p, c.terms[0]) % product(p, c.terms[1]) != 0) return false;
    if (c.kind == Kind::WorkGroup && std::size_t(product(p, c.terms[0])) > device.max_work_group_size) return false;
    if (c.kind == Kind::LocalMemory) {
      std::uint64_t bytes = 0;
      for (const auto& term : c.terms) bytes += std::uint64_t(product(p, term)) * elem_bytes;
      if (bytes > device.local_mem) return false;
    }
  }
  return true;
}

std::vector<ParamSet> SearchSpace::configurations(const DeviceInfo& device, std::size_t elem_bytes) const {
  std::vector<ParamSet> out;
  std::vector<std::size_t> at(values.size(), 0);
  for (;;) {
    ParamSet p;
    for (std::size_t i = 0; i < values.size(); ++i) p[values[i].first] = values[i].second[at[i]];
    if (allows(p, device, elem_bytes)) out.push_back(std::move(p));
    std::size_t i = values.size();
    while (i > 0 && ++at[i - 1] == values[i - 1].second.size()) at[--i] = 0;
    if (i == 0) return out;
  }
}

SearchSpace load_search_space(const std::string& kernel_dir, const std::string& family) {
  return load_search_space_file(kernel_dir + "/params/" + family + ".space.json", family);
}

SearchSpace load_search_space_file(const std::string& path, const std::string& family) {
  const auto text = read_file(path);
  if (!text) fail(ANYCL_ERROR_INVALID_ARGUMENT, "search space of " + family + ": cannot read " + path);
  try {
    return parse_space(json::parse(*text), family);
  } catch (const std::exception& e) {
    fail(ANYCL_ERROR_INVALID_ARGUMENT, "search space " + path + ": " + e.what());
  }
}

}  // namespace anycl::detail
