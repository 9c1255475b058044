// Reading a YAML spec the way users need its errors: every problem collected with
// file:line:column, unknown fields named with the allowed ones, values with their ranges.
#pragma once

#include <regex>
#include <string>
#include <vector>

#include <yaml-cpp/yaml.h>

namespace aic {

class YamlReader {
 public:
  explicit YamlReader(std::string file) : file_(std::move(file)) {}

  void Error(const YAML::Mark& mark, const std::string& message);
  bool ok() const { return errors_.empty(); }
  // Every problem, one per line.
  std::string Joined() const;

  // Rejects keys of `map` that are not in `allowed`, naming the allowed ones.
  void CheckKeys(const YAML::Node& map, const std::string& where,
                 const std::vector<std::string>& allowed);
  bool IsMap(const YAML::Node& node, const std::string& where);

  // Each reads parent[key] into *out when present; a value of the wrong type is an error and
  // leaves *out alone.
  void String(const YAML::Node& parent, const char* key, std::string* out);
  void Bool(const YAML::Node& parent, const char* key, bool* out);
  void Int(const YAML::Node& parent, const char* key, int lo, int hi, int* out);
  void StringList(const YAML::Node& parent, const char* key, std::vector<std::string>* out);

  // Errors when parent[key] is present and `value` does not match / is not allowed.
  void Match(const YAML::Node& parent, const char* key, const std::string& value,
             const std::regex& re, const std::string& allowed);
  void OneOf(const YAML::Node& parent, const char* key, const std::string& value,
             const std::vector<std::string>& allowed);

 private:
  std::string file_;
  std::vector<std::string> errors_;
};

}  // namespace aic
