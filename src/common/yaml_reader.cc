#include "common/yaml_reader.h"

#include <algorithm>

#include <fmt/format.h>
#include <fmt/ranges.h>

namespace aic {

void YamlReader::Error(const YAML::Mark& mark, const std::string& message) {
  errors_.push_back(fmt::format("{}:{}:{}: {}", file_, mark.line + 1, mark.column + 1, message));
}

std::string YamlReader::Joined() const {
  std::string out;
  for (const auto& e : errors_)
    out += (out.empty() ? "" : "\n") + e;
  return out;
}

void YamlReader::CheckKeys(const YAML::Node& map, const std::string& where,
                           const std::vector<std::string>& allowed) {
  for (const auto& kv : map) {
    auto key = kv.first.as<std::string>();
    if (std::find(allowed.begin(), allowed.end(), key) != allowed.end()) continue;
    Error(kv.first.Mark(), fmt::format("unknown field \"{}\" in {}; allowed: {}", key, where,
                                       fmt::join(allowed, ", ")));
  }
}

bool YamlReader::IsMap(const YAML::Node& node, const std::string& where) {
  if (node.IsMap()) return true;
  Error(node.Mark(), fmt::format("{} must be a mapping", where));
  return false;
}

void YamlReader::String(const YAML::Node& parent, const char* key, std::string* out) {
  auto n = parent[key];
  if (!n) return;
  if (!n.IsScalar()) return Error(n.Mark(), fmt::format("\"{}\" must be a string", key));
  *out = n.as<std::string>();
}

void YamlReader::Bool(const YAML::Node& parent, const char* key, bool* out) {
  auto n = parent[key];
  if (!n) return;
  bool value = false;
  if (!n.IsScalar() || !YAML::convert<bool>::decode(n, value)) {
    return Error(n.Mark(), fmt::format("\"{}\" must be true or false", key));
  }
  *out = value;
}

void YamlReader::Int(const YAML::Node& parent, const char* key, int lo, int hi, int* out) {
  auto n = parent[key];
  if (!n) return;
  int value = 0;
  if (!n.IsScalar() || !YAML::convert<int>::decode(n, value)) {
    return Error(n.Mark(), fmt::format("\"{}\" must be an integer", key));
  }
  if (value < lo || value > hi) {
    return Error(n.Mark(), fmt::format("\"{}\" is {}; allowed: {}..{}", key, value, lo, hi));
  }
  *out = value;
}

void YamlReader::StringList(const YAML::Node& parent, const char* key,
                            std::vector<std::string>* out) {
  auto n = parent[key];
  if (!n) return;
  if (!n.IsSequence()) return Error(n.Mark(), fmt::format("\"{}\" must be a list", key));
  out->clear();
  for (const auto& item : n) {
    if (!item.IsScalar()) {
      Error(item.Mark(), fmt::format("items of \"{}\" must be strings", key));
      continue;
    }
    out->push_back(item.as<std::string>());
  }
}

void YamlReader::Match(const YAML::Node& parent, const char* key, const std::string& value,
                       const std::regex& re, const std::string& allowed) {
  auto n = parent[key];
  if (!n || std::regex_match(value, re)) return;
  Error(n.Mark(), fmt::format("\"{}\" is \"{}\"; allowed: {}", key, value, allowed));
}

void YamlReader::OneOf(const YAML::Node& parent, const char* key, const std::string& value,
                       const std::vector<std::string>& allowed) {
  auto n = parent[key];
  if (!n || std::find(allowed.begin(), allowed.end(), value) != allowed.end()) return;
  Error(n.Mark(),
        fmt::format("\"{}\" is \"{}\"; allowed: {}", key, value, fmt::join(allowed, ", ")));
}

}  // namespace aic
