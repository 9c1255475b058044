// A throwaway worker node for integration tests: its own directory under /tmp, the real
// containerd from the build cache, and a teardown that runs even when the test failed.
#pragma once

#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <string>

#include <gtest/gtest.h>

#include "local/images/catalog.h"
#include "local/node/runtime.h"

namespace aic::node {

inline std::string ContainerdBinDir() {
  if (const char* env = std::getenv("AICONFORM_CONTAINERD_DIR")) return env;
  const char* home = std::getenv("HOME");
  return std::string(home ? home : "/root") + "/.cache/aiconform/bin/containerd-v2.2.9";
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
    spec_ = MakeNodeSpec("itest", 201, base_);
    spec_.containerd_bin_dir = ContainerdBinDir();
    spec_.sandbox_image = images::kPauseImage;
  }

  void TearDown() override {
    if (base_.empty()) return;
    Status stopped = StopNode(Context::WithTimeout(std::chrono::seconds(60)), spec_, true);
    EXPECT_TRUE(stopped.ok()) << stopped.ToString();
    EXPECT_TRUE(NodeLeftovers(spec_).empty());
    std::filesystem::remove_all(base_);
  }

  std::string base_;
  NodeSpec spec_;
};

}  // namespace aic::node
