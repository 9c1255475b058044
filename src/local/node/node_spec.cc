#include "local/node/node_spec.h"

#include <algorithm>

namespace aic::node {

NodeSpec MakeNodeSpec(const std::string& name, int index, const std::string& base_dir) {
  NodeSpec spec;
  spec.name = name;
  spec.index = index;
  spec.dir = base_dir + "/nodes/" + name;
  spec.pod_cidr = fmt::format("10.244.{}.0/24", index);
  spec.host_ip = fmt::format("10.250.{}.1", index);
  spec.node_ip = fmt::format("10.250.{}.2", index);
  return spec;
}

Status ValidateNodeSpec(const NodeSpec& spec) {
  bool name_ok = !spec.name.empty() && spec.name.size() <= 10 &&
                 std::all_of(spec.name.begin(), spec.name.end(), [](char c) {
                   return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-';
                 });
  if (!name_ok) {
    return Error(Code::kInvalidArgument,
                 "node name \"{}\" must be 1-10 characters of a-z, 0-9 and '-'", spec.name);
  }
  if (spec.index < 1 || spec.index > 250) {
    return Error(Code::kInvalidArgument, "node \"{}\": index {} is outside 1..250", spec.name,
                 spec.index);
  }
  if (spec.dir.empty() || spec.dir.front() != '/') {
    return Error(Code::kInvalidArgument, "node \"{}\": directory \"{}\" must be absolute",
                 spec.name, spec.dir);
  }
  // sun_path holds 108 bytes including the terminating NUL.
  if (PathsOf(spec).socket.size() >= 108) {
    return Error(Code::kInvalidArgument,
                 "node \"{}\": directory \"{}\" is too long for a socket path", spec.name,
                 spec.dir);
  }
  return Status::Ok();
}

std::string NetnsName(const NodeSpec& spec) {
  return fmt::format("aic{}-{}", spec.index, spec.name);
}
std::string NetnsPath(const NodeSpec& spec) {
  return "/run/netns/" + NetnsName(spec);
}
std::string HostVethName(const NodeSpec& spec) {
  // Interface names hold 15 characters; the index alone keeps a cut name unique.
  return fmt::format("aicv{}-{}", spec.index, spec.name).substr(0, 15);
}
std::string CniNetworkName(const NodeSpec& spec) {
  return "aic-" + spec.name;
}
std::string BridgeName(const NodeSpec&) {
  return "aicbr0";
}
std::string CgroupParent(const NodeSpec& spec) {
  return "/" + NetnsName(spec);
}

ContainerdPaths PathsOf(const NodeSpec& spec) {
  std::string base = spec.dir + "/containerd";
  ContainerdPaths p;
  p.config = base + "/config.toml";
  p.root = base + "/root";
  p.state = base + "/state";
  p.socket = p.state + "/containerd.sock";
  p.runc_root = p.state + "/runc";
  p.cni_conf_dir = spec.dir + "/cni/net.d";
  p.cni_data_dir = spec.dir + "/cni/ipam";
  p.cdi_dir = spec.dir + "/cdi";
  p.opt_dir = base + "/opt";
  p.log = spec.dir + "/containerd.log";
  return p;
}

}  // namespace aic::node
