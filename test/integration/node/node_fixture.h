// A throwaway worker node for integration tests: its own directory under /tmp, the real
// containerd from the build cache, and a teardown that runs even when the test failed.
#pragma once

#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <set>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "local/images/catalog.h"
#include "local/node/runtime.h"

namespace aic::node {

inline std::string ContainerdBinDir() {
  if (const char* env = std::getenv("AICONFORM_CONTAINERD_DIR")) return env;
  const char* home = std::getenv("HOME");
  return std::string(home ? home : "/root") + "/.cache/aiconform/bin/containerd-v2.2.9";
}

// Entries of the machine-wide directories that containerd shims and libcni write to.
inline std::set<std::string> SharedRuntimeFiles() {
  std::set<std::string> files;
  std::error_code ec;
  for (const char* dir : {"/run/containerd/s", "/var/lib/cni/results", "/run/netns"}) {
    for (const auto& f : std::filesystem::directory_iterator(dir, ec)) {
      files.insert(f.path().string());
    }
  }
  return files;
}

class NodeTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (geteuid() != 0) GTEST_SKIP() << "needs root";
    if (!std::filesystem::exists(ContainerdBinDir() + "/containerd")) {
      GTEST_SKIP() << "no containerd in " << ContainerdBinDir() << "; run scripts/build-node.sh";
    }
    std::string tmpl = "/tmp/aic-node-itest-XXXXXX";
    base_ = mkdtemp(tmpl.data());
    // Unique per process, so ctest may run tests in parallel.
    spec_ = MakeNodeSpec(fmt::format("it{}", getpid() % 100000), 150 + getpid() % 50, base_);
    shared_before_ = SharedRuntimeFiles();
    spec_.containerd_bin_dir = ContainerdBinDir();
    spec_.sandbox_image = images::kPauseImage;
  }

  void TearDown() override {
    if (base_.empty()) return;
    Status stopped = StopNode(Context::WithTimeout(std::chrono::seconds(60)), spec_, true);
    EXPECT_TRUE(stopped.ok()) << stopped.ToString();
    EXPECT_EQ(NodeLeftovers(spec_), std::vector<std::string>{});
    EXPECT_EQ(SharedRuntimeFiles(), shared_before_);
    std::filesystem::remove_all(base_);
  }

  std::string base_;
  NodeSpec spec_;
  std::set<std::string> shared_before_;
};

}  // namespace aic::node
