#include "local/node/runtime.h"

#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <algorithm>
#include <csignal>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

#include "common/log.h"
#include "local/images/digest.h"
#include "local/node/configs.h"
#include "local/node/exec.h"
#include "local/node/network.h"

namespace aic::node {
namespace {

namespace fs = std::filesystem;
using std::chrono::milliseconds;

// Where containerd-shim-runc-v2 puts its sockets, whatever containerd's own state directory.
constexpr const char* kShimSocketDir = "/run/containerd/s";

std::string Ctr(const NodeSpec& spec) {
  return spec.containerd_bin_dir + "/ctr";
}

bool SocketAnswers(const std::string& path) {
  int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return false;
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  path.copy(addr.sun_path, sizeof(addr.sun_path) - 1);
  bool ok = connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) == 0;
  close(fd);
  return ok;
}

std::string ReadText(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

struct NodeProcess {
  pid_t pid;
  std::string command;  // argv joined by spaces
};

bool Under(const std::string& path, const std::string& dir) {
  return path.size() > dir.size() && path.starts_with(dir) && path[dir.size()] == '/';
}

// True when one of the process's cgroups (a /proc/<pid>/cgroup line "id:controllers:path") is
// the node's cgroup root or below it.
bool InCgroup(const std::string& proc_cgroup, const std::string& parent) {
  std::istringstream lines(proc_cgroup);
  for (std::string line; std::getline(lines, line);) {
    size_t colon = line.find(':', line.find(':') + 1);
    if (colon == std::string::npos) continue;
    std::string path = line.substr(colon + 1);
    if (path == parent || Under(path, parent)) return true;
  }
  return false;
}

// Processes that belong to the node: in its network namespace, in its cgroup root (pods), or
// started with its directory on the command line (containerd, shims). Container processes live
// in their own mount namespaces, so their root directory does not reveal them.
std::vector<NodeProcess> NodeProcesses(const NodeSpec& spec) {
  std::string netns_link;
  struct stat st {};
  if (stat(NetnsPath(spec).c_str(), &st) == 0) {
    netns_link = fmt::format("net:[{}]", st.st_ino);
  }
  const std::string cgroup_parent = CgroupParent(spec);
  std::vector<NodeProcess> found;
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator("/proc", ec)) {
    std::string name = entry.path().filename().string();
    if (!std::all_of(name.begin(), name.end(), ::isdigit)) continue;
    pid_t pid = std::stoi(name);
    if (pid == getpid()) continue;
    std::string cmdline = ReadText(entry.path() / "cmdline");
    if (cmdline.empty()) continue;  // kernel thread, zombie or gone
    std::replace(cmdline.begin(), cmdline.end(), '\0', ' ');
    std::error_code e;
    std::string net = fs::read_symlink(entry.path() / "ns/net", e).string();
    bool mine = (!netns_link.empty() && net == netns_link) ||
                cmdline.find(spec.dir + "/") != std::string::npos ||
                InCgroup(ReadText(entry.path() / "cgroup"), cgroup_parent);
    if (mine) found.push_back({pid, cmdline.substr(0, 120)});
  }
  return found;
}

// Mount points under the node directory, deepest first.
std::vector<std::string> NodeMounts(const NodeSpec& spec) {
  std::vector<std::string> mounts;
  std::ifstream in("/proc/self/mountinfo");
  for (std::string line; std::getline(in, line);) {
    // Fields: id parent major:minor root mount-point ...; spaces in paths are written \040.
    std::istringstream fields(line);
    std::string skip, point;
    fields >> skip >> skip >> skip >> skip >> point;
    for (size_t i; (i = point.find("\\040")) != std::string::npos;)
      point.replace(i, 4, " ");
    if (Under(point, spec.dir)) mounts.push_back(point);
  }
  std::sort(mounts.begin(), mounts.end(),
            [](const std::string& a, const std::string& b) { return a.size() > b.size(); });
  return mounts;
}

// The node's cgroup directories in every hierarchy, deepest first.
std::vector<std::string> NodeCgroups(const NodeSpec& spec) {
  std::vector<std::string> dirs;
  std::error_code ec;
  for (const auto& hierarchy : fs::directory_iterator("/sys/fs/cgroup", ec)) {
    fs::path top = hierarchy.path() / CgroupParent(spec).substr(1);
    if (!fs::is_directory(top, ec)) continue;
    dirs.push_back(top.string());
    for (const auto& sub : fs::recursive_directory_iterator(top, ec)) {
      if (sub.is_directory(ec)) dirs.push_back(sub.path().string());
    }
  }
  std::sort(dirs.begin(), dirs.end(),
            [](const std::string& a, const std::string& b) { return a.size() > b.size(); });
  return dirs;
}

// Shim sockets are named after sha256("<containerd address>/<namespace>/<id>") (and
// ".../debug"); the ids are the task directories in the node's state.
std::vector<std::string> ShimSockets(const NodeSpec& spec) {
  std::vector<std::string> sockets;
  ContainerdPaths p = PathsOf(spec);
  std::error_code ec;
  for (const auto& ns : fs::directory_iterator(p.state + "/io.containerd.runtime.v2.task", ec)) {
    for (const auto& task : fs::directory_iterator(ns.path(), ec)) {
      std::string key =
          p.socket + "/" + ns.path().filename().string() + "/" + task.path().filename().string();
      for (const std::string& k : {key, key + "/debug"}) {
        std::string socket = std::string(kShimSocketDir) + "/" + images::Sha256Hex(k);
        if (fs::exists(socket, ec)) sockets.push_back(socket);
      }
    }
  }
  return sockets;
}

// CNI result cache entries libcni writes under /var/lib/cni, named after the network.
std::vector<std::string> CniCacheEntries(const NodeSpec& spec) {
  std::vector<std::string> entries;
  std::error_code ec;
  for (const auto& f : fs::directory_iterator("/var/lib/cni/results", ec)) {
    if (f.path().filename().string().starts_with(CniNetworkName(spec) + "-")) {
      entries.push_back(f.path().string());
    }
  }
  return entries;
}

// kubelet links every container's log file into this machine-wide directory, whatever its
// own directories are.
constexpr const char* kContainerLogLinks = "/var/log/containers";

// The links in kContainerLogLinks that point into the node's directory.
std::vector<std::string> ContainerLogLinks(const NodeSpec& spec) {
  std::vector<std::string> links;
  std::error_code ec;
  for (const auto& f : fs::directory_iterator(kContainerLogLinks, ec)) {
    std::error_code e;
    if (!f.is_symlink(e)) continue;
    if (Under(fs::read_symlink(f.path(), e).string(), spec.dir)) links.push_back(f.path());
  }
  return links;
}

Status KillNodeProcesses(const NodeSpec& spec) {
  for (int round = 0; round < 50; ++round) {
    auto procs = NodeProcesses(spec);
    if (procs.empty()) return Status::Ok();
    for (const auto& p : procs)
      kill(p.pid, SIGKILL);
    for (const auto& p : procs)
      Exited(p.pid);  // reaps our own children
    std::this_thread::sleep_for(milliseconds(100));
  }
  return Error(Code::kInternal, "node {}: processes survive SIGKILL", spec.name);
}

Status UnmountAll(const NodeSpec& spec) {
  for (int round = 0; round < 5; ++round) {
    auto mounts = NodeMounts(spec);
    if (mounts.empty()) return Status::Ok();
    for (const auto& m : mounts)
      umount2(m.c_str(), MNT_DETACH);
  }
  return Error(Code::kInternal, "node {}: mounts under {} remain", spec.name, spec.dir);
}

Result<pid_t> ExecContainerd(const NodeSpec& spec) {
  ContainerdPaths p = PathsOf(spec);
  // The shim is found on PATH; runc and the CNI plugins by absolute path from the config.
  std::string path = spec.containerd_bin_dir + ":/usr/sbin:/usr/bin:/sbin:/bin";
  DaemonSpec daemon{
      .argv = {"/usr/bin/env", "PATH=" + path, spec.containerd_bin_dir + "/containerd", "--config",
               p.config},
      .netns = NetnsPath(spec),
      .log_file = p.log,
  };
  return StartDaemon(daemon);
}

}  // namespace

Result<ContainerdHandle> StartNode(const Context& ctx, const NodeSpec& spec) {
  AIC_RETURN_IF_ERROR(WriteNodeConfigs(spec));
  AIC_RETURN_IF_ERROR(CreateNodeNetwork(ctx, spec));

  auto started = Clock::now();
  auto pid = ExecContainerd(spec);
  if (!pid.ok()) {
    (void)StopNode(ctx, spec);
    return pid.status();
  }
  ContainerdHandle handle{.pid = *pid, .socket = PathsOf(spec).socket};
  for (;;) {
    if (SocketAnswers(handle.socket) &&
        Run(ctx, {Ctr(spec), "--address", handle.socket, "version"}).ok()) {
      break;
    }
    Status waiting = Exited(*pid)
                         ? Error(Code::kInternal, "containerd exited; see {}", PathsOf(spec).log)
                         : ctx.Sleep(milliseconds(25));
    if (!waiting.ok()) {
      (void)StopNode(ctx, spec);
      return waiting.Prefixed(fmt::format("node {}: containerd", spec.name));
    }
  }
  handle.startup = std::chrono::duration_cast<milliseconds>(Clock::now() - started);
  log::Get("node")->info("node {}: containerd {} ready in {} ms", spec.name, handle.pid,
                         handle.startup.count());
  return handle;
}

Status ImportImage(const Context& ctx, const NodeSpec& spec, const std::string& archive) {
  auto out = Run(ctx, {Ctr(spec), "--address", PathsOf(spec).socket, "--namespace", "k8s.io",
                       "images", "import", "--local", "--snapshotter", "overlayfs", archive});
  if (!out.ok())
    return out.status().Prefixed(fmt::format("node {}: import {}", spec.name, archive));
  return Status::Ok();
}

Status StopNode(const Context& ctx, const NodeSpec& spec, bool purge) {
  auto logger = log::Get("node");
  ContainerdPaths p = PathsOf(spec);

  // containerd first, politely, so it can close its database.
  for (const auto& proc : NodeProcesses(spec)) {
    if (proc.command.find("--config " + p.config) != std::string::npos) {
      AIC_RETURN_IF_ERROR(StopProcess(proc.pid, milliseconds(5000)));
    }
  }
  std::vector<std::string> sockets = ShimSockets(spec);
  AIC_RETURN_IF_ERROR(KillNodeProcesses(spec));
  AIC_RETURN_IF_ERROR(UnmountAll(spec));

  std::error_code ec;
  for (const auto& s : sockets)
    fs::remove(s, ec);
  for (const auto& f : CniCacheEntries(spec))
    fs::remove(f, ec);
  for (const auto& f : ContainerLogLinks(spec))
    fs::remove(f, ec);
  for (const auto& dir : NodeCgroups(spec))
    rmdir(dir.c_str());
  AIC_RETURN_IF_ERROR(DeleteNodeNetwork(ctx, spec));
  // Machine-wide directories the shims and libcni create; removed only when no one else uses
  // them (rmdir fails on a non-empty directory).
  for (const char* dir : {"/run/containerd/s", "/run/containerd", "/var/lib/cni/results",
                          "/var/lib/cni", kContainerLogLinks}) {
    rmdir(dir);
  }

  // Runtime state and IP allocations describe processes that no longer exist.
  fs::remove_all(p.state, ec);
  fs::remove_all(p.cni_data_dir, ec);
  if (purge) fs::remove_all(spec.dir, ec);

  auto left = NodeLeftovers(spec);
  if (!left.empty()) {
    return Error(Code::kInternal, "node {}: teardown left {} (first: {})", spec.name, left.size(),
                 left.front());
  }
  logger->info("node {}: stopped{}", spec.name, purge ? " and purged" : "");
  return Status::Ok();
}

std::vector<std::string> NodeLeftovers(const NodeSpec& spec) {
  std::vector<std::string> left;
  for (const auto& p : NodeProcesses(spec)) {
    left.push_back(fmt::format("process {} ({})", p.pid, p.command));
  }
  for (const auto& m : NodeMounts(spec))
    left.push_back("mount " + m);
  if (NetnsExists(spec)) left.push_back("netns " + NetnsName(spec));
  if (HostVethExists(spec)) left.push_back("link " + HostVethName(spec));
  for (const auto& c : NodeCgroups(spec))
    left.push_back("cgroup " + c);
  for (const auto& s : ShimSockets(spec))
    left.push_back("socket " + s);
  for (const auto& f : CniCacheEntries(spec))
    left.push_back("cni cache " + f);
  for (const auto& f : ContainerLogLinks(spec))
    left.push_back("log link " + f);
  return left;
}

}  // namespace aic::node
