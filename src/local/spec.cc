#include "local/spec.h"

#include <fstream>
#include <regex>
#include <set>
#include <sstream>

#include <fmt/format.h>
#include <fmt/ranges.h>
#include <yaml-cpp/yaml.h>

#include "common/yaml_reader.h"

namespace aic::local {
namespace {

const std::regex kPoolName("^[a-z][a-z0-9]{0,6}$");
// A label key: an optional DNS-subdomain prefix and a name of 1-63 characters.
const std::regex kLabelKey(
    "^([a-z0-9]([-a-z0-9.]{0,251}[a-z0-9])?/)?[A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?$");
const std::regex kLabelValue("^([A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?)?$");
const std::regex kTaint("^(.+)=(.*):(NoSchedule|PreferNoSchedule|NoExecute)$");

// Labels aiconform sets from the pool itself; a spec may not set them.
bool Reserved(const std::string& key) {
  return key == "agentpool" || key.starts_with("kubernetes.azure.com/") ||
         key.starts_with("kubernetes.io/") || key.starts_with("node.kubernetes.io/");
}

void ReadPool(YamlReader& r, const YAML::Node& n, PoolSpec* p) {
  if (!r.IsMap(n, "a pool")) return;
  r.CheckKeys(n, "a pool", {"name", "mode", "count", "labels", "taints"});
  if (!n["name"]) r.Error(n.Mark(), "a pool needs a \"name\"");
  r.String(n, "name", &p->name);
  r.Match(n, "name", p->name, kPoolName,
          "a lowercase letter, then up to 6 lowercase letters or digits");
  r.String(n, "mode", &p->mode);
  r.OneOf(n, "mode", p->mode, {"system", "user"});
  r.Int(n, "count", 0, kMaxNodes, &p->count);
  if (auto labels = n["labels"]; labels) {
    if (r.IsMap(labels, "\"labels\"")) {
      for (const auto& kv : labels) {
        auto key = kv.first.as<std::string>();
        if (!kv.second.IsScalar()) {
          r.Error(kv.second.Mark(), fmt::format("label \"{}\" must have a string value", key));
          continue;
        }
        auto value = kv.second.as<std::string>();
        if (!std::regex_match(key, kLabelKey)) {
          r.Error(kv.first.Mark(), fmt::format("\"{}\" is not a Kubernetes label key", key));
        } else if (Reserved(key)) {
          r.Error(
              kv.first.Mark(),
              fmt::format("label \"{}\" is set by aiconform from the pool's name and mode", key));
        } else if (!std::regex_match(value, kLabelValue)) {
          r.Error(kv.second.Mark(),
                  fmt::format("label \"{}\": \"{}\" is not a Kubernetes label value (at most 63 "
                              "characters of letters, digits, '-', '_' and '.')",
                              key, value));
        }
        p->labels[key] = value;
      }
    }
  }
  std::vector<std::string> taints;
  r.StringList(n, "taints", &taints);
  for (size_t i = 0; i < taints.size(); ++i) {
    auto t = ParseTaint(taints[i]);
    if (t.ok()) {
      p->taints.push_back(*t);
    } else {
      r.Error(n["taints"][i].Mark(), t.status().message());
    }
  }
}

}  // namespace

Result<Taint> ParseTaint(const std::string& text) {
  std::smatch m;
  if (std::regex_match(text, m, kTaint) && std::regex_match(m[1].str(), kLabelKey) &&
      std::regex_match(m[2].str(), kLabelValue)) {
    return Taint{m[1], m[2], m[3]};
  }
  return Error(Code::kInvalidArgument,
               "taint \"{}\": expected key=value:Effect with Effect NoSchedule, PreferNoSchedule "
               "or NoExecute",
               text);
}

std::string TaintString(const Taint& t) {
  return fmt::format("{}={}:{}", t.key, t.value, t.effect);
}

Result<LocalSpec> ParseLocalSpec(const std::string& text, const std::string& file) {
  YAML::Node root;
  try {
    root = YAML::Load(text);
  } catch (const YAML::Exception& e) {
    return Error(Code::kInvalidArgument, "{}:{}:{}: {}", file, e.mark.line + 1, e.mark.column + 1,
                 e.msg);
  }
  YamlReader r(file);
  LocalSpec spec;
  if (!root || root.IsNull() || !root.IsMap()) {
    r.Error(root.Mark(), "the spec must be a mapping with \"pools\" (see examples/local.yaml)");
    return Error(Code::kInvalidArgument, "{}", r.Joined());
  }
  r.CheckKeys(root, "the spec", {"pools"});
  auto pools = root["pools"];
  if (!pools) {
    r.Error(root.Mark(), "the spec needs \"pools\"");
  } else if (!pools.IsSequence()) {
    r.Error(pools.Mark(), "\"pools\" must be a list");
  } else {
    std::set<std::string> names;
    for (const auto& item : pools) {
      PoolSpec p;
      ReadPool(r, item, &p);
      if (!p.name.empty() && !names.insert(p.name).second) {
        r.Error(item["name"].Mark(), fmt::format("a second pool is named \"{}\"", p.name));
      }
      spec.pools.push_back(p);
    }
  }
  if (!r.ok()) return Error(Code::kInvalidArgument, "{}", r.Joined());
  AIC_RETURN_IF_ERROR(ValidatePools(spec.pools, file));
  return spec;
}

Result<LocalSpec> LoadLocalSpec(const std::string& path) {
  std::ifstream in(path);
  if (!in) return Error(Code::kInvalidArgument, "{}: cannot read the spec file", path);
  std::stringstream text;
  text << in.rdbuf();
  return ParseLocalSpec(text.str(), path);
}

LocalSpec DefaultLocalSpec(int workers) {
  int accelerators = workers >= 2 ? 1 : 0;
  LocalSpec spec;
  spec.pools.push_back({"system", "system", workers - accelerators, {}, {}});
  spec.pools.push_back(
      {"gpunp", "user", accelerators, {{"sku", "gpu"}}, {{"sku", "gpu", "NoSchedule"}}});
  return spec;
}

std::map<std::string, std::string> NodeLabels(const PoolSpec& pool) {
  std::map<std::string, std::string> labels = pool.labels;
  labels["agentpool"] = pool.name;
  labels["kubernetes.azure.com/agentpool"] = pool.name;
  labels["kubernetes.azure.com/mode"] = pool.mode;
  return labels;
}

Status ValidatePools(const std::vector<PoolSpec>& pools, const std::string& where) {
  int total = 0, system = 0;
  for (const auto& p : pools) {
    total += p.count;
    if (p.mode == "system") system += p.count;
  }
  if (total > kMaxNodes) {
    return Error(Code::kInvalidArgument, "{}: {} nodes in all; at most {} fit on one machine",
                 where, total, kMaxNodes);
  }
  if (total > 0 && system == 0) {
    return Error(Code::kInvalidArgument,
                 "{}: no node in a pool with mode system; cluster DNS runs on system nodes, so "
                 "give a system pool a count of 1 or more",
                 where);
  }
  return Status::Ok();
}

}  // namespace aic::local
