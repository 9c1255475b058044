#include "local/host_nodes.h"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>

#include <nlohmann/json.hpp>

#include "local/node/network.h"
#include "local/state.h"

namespace aic::local {
namespace {

namespace fs = std::filesystem;

constexpr const char* kSharedDir = "/run/aiconform";
constexpr const char* kSharedSettings = "/run/aiconform/host-settings.json";
constexpr const char* kLockFile = "/run/aiconform/lock";

// The index in "<prefix><digits>-...", or 0 when `name` is not of that form.
int IndexAfter(const std::string& name, const std::string& prefix) {
  if (name.rfind(prefix, 0) != 0) return 0;
  size_t end = name.find('-', prefix.size());
  if (end == std::string::npos || end == prefix.size()) return 0;
  std::string digits = name.substr(prefix.size(), end - prefix.size());
  if (digits.find_first_not_of("0123456789") != std::string::npos || digits.size() > 3) return 0;
  return std::atoi(digits.c_str());
}

}  // namespace

std::vector<HostNode> NodesOnHost() {
  std::map<int, HostNode> by_index;
  std::error_code ec;
  for (const auto& e : fs::directory_iterator("/run/netns", ec)) {
    std::string name = e.path().filename().string();
    if (int index = IndexAfter(name, "aic"); index > 0) {
      by_index[index].index = index;
      by_index[index].netns = name;
    }
  }
  for (const auto& e : fs::directory_iterator("/sys/class/net", ec)) {
    std::string name = e.path().filename().string();
    if (int index = IndexAfter(name, "aicv"); index > 0) {
      by_index[index].index = index;
      by_index[index].link = name;
      by_index[index].owner = node::LinkAlias(name);
    }
  }
  std::vector<HostNode> out;
  for (auto& [index, n] : by_index)
    out.push_back(std::move(n));
  return out;
}

bool IsMine(const HostNode& n, const std::vector<node::NodeSpec>& mine) {
  return std::any_of(mine.begin(), mine.end(), [&](const node::NodeSpec& spec) {
    if (spec.index != n.index) return false;
    if (!n.link.empty()) return n.owner == spec.dir;
    return n.netns == node::NetnsName(spec);
  });
}

std::map<int, std::string> IndexesHeldByOthers(const std::vector<node::NodeSpec>& mine) {
  std::map<int, std::string> held;
  for (const auto& n : NodesOnHost()) {
    if (IsMine(n, mine)) continue;
    held[n.index] = !n.owner.empty() ? "the node in " + n.owner
                                     : "network namespace " + (n.netns.empty() ? n.link : n.netns);
  }
  return held;
}

HostLock::~HostLock() {
  Release();
}

void HostLock::Release() {
  if (fd_ < 0) return;
  if (NodesOnHost().empty()) ForgetSharedHostSettings();
  close(fd_);
  fd_ = -1;
}

Status HostLock::Acquire(const Context& ctx) {
  for (;;) {
    std::error_code ec;
    fs::create_directories(kSharedDir, ec);
    int fd = open(kLockFile, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    if (fd < 0) {
      return Error(Code::kPermissionDenied, "cannot open {}: {}", kLockFile, std::strerror(errno));
    }
    while (flock(fd, LOCK_EX | LOCK_NB) != 0) {
      if (Status s = ctx.Sleep(std::chrono::milliseconds(50)); !s.ok()) {
        close(fd);
        return s.Prefixed("waiting for another aiconform to finish with the host's nodes");
      }
    }
    // The file may have been removed while this waited for it (the last cluster stopped);
    // a lock on a removed file guards nothing, so lock the current one instead.
    struct stat held, now;
    if (fstat(fd, &held) == 0 && stat(kLockFile, &now) == 0 && held.st_ino == now.st_ino &&
        held.st_dev == now.st_dev) {
      fd_ = fd;
      return Status::Ok();
    }
    close(fd);
  }
}

std::map<std::string, std::string> SharedHostSettings() {
  std::ifstream in(kSharedSettings);
  if (!in) return {};
  auto j = nlohmann::json::parse(in, nullptr, false);
  std::map<std::string, std::string> out;
  if (!j.is_object()) return out;
  for (const auto& [key, value] : j.items()) {
    if (value.is_string()) out[key] = value.get<std::string>();
  }
  return out;
}

Status SaveSharedHostSettings(const std::map<std::string, std::string>& settings) {
  return WriteFile(kSharedSettings, nlohmann::json(settings).dump(2) + "\n");
}

void ForgetSharedHostSettings() {
  std::error_code ec;
  fs::remove(kSharedSettings, ec);
  fs::remove(kLockFile, ec);
  if (fs::is_empty(kSharedDir, ec) && !ec) fs::remove(kSharedDir, ec);
}

}  // namespace aic::local
