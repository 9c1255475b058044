#include <signal.h>

#include <chrono>
#include <string>

#include <gtest/gtest.h>

#include "integration/node/node_fixture.h"
#include "local/images/catalog.h"
#include "local/node/exec.h"
#include "local/node/network.h"

namespace aic::node {
namespace {

using std::chrono::duration_cast;
using std::chrono::milliseconds;

TEST_F(NodeTest, ContainerdStartsInTheNodeNamespaceImportsImagesAndStopsClean) {
  Context ctx = Context::WithTimeout(std::chrono::seconds(120));
  auto node = StartNode(ctx, spec_);
  ASSERT_TRUE(node.ok()) << node.status().ToString();
  RecordProperty("containerd_start_ms", std::to_string(node->startup.count()));
  EXPECT_TRUE(NetnsExists(spec_));
  EXPECT_TRUE(HostVethExists(spec_));

  auto pause =
      images::BuildImage(images::PauseImageSpec(images::DefaultPauseBinary()), base_ + "/images");
  auto probe = images::BuildImage(images::ProbeImageSpec(), base_ + "/images");
  ASSERT_TRUE(pause.ok() && probe.ok());
  auto started = Clock::now();
  ASSERT_TRUE(ImportImage(ctx, spec_, pause->path).ok());
  Status imported = ImportImage(ctx, spec_, probe->path);
  ASSERT_TRUE(imported.ok()) << imported.ToString();
  auto import_ms = duration_cast<milliseconds>(Clock::now() - started).count();
  RecordProperty("image_import_ms", std::to_string(import_ms));

  auto list = node::Run(ctx, {spec_.containerd_bin_dir + "/ctr", "--address", node->socket,
                              "--namespace", "k8s.io", "images", "ls", "-q"});
  ASSERT_TRUE(list.ok()) << list.status().ToString();
  EXPECT_NE(list->find(images::kPauseImage), std::string::npos) << *list;
  EXPECT_NE(list->find(images::kProbeImage), std::string::npos) << *list;

  // The host reaches the node over the veth.
  EXPECT_TRUE(node::Run(ctx, {"busybox", "ping", "-c1", "-W2", spec_.node_ip}).ok());
}

TEST_F(NodeTest, StopNodeCleansUpAfterContainerdWasKilled) {
  Context ctx = Context::WithTimeout(std::chrono::seconds(60));
  auto node = StartNode(ctx, spec_);
  ASSERT_TRUE(node.ok()) << node.status().ToString();

  kill(node->pid, SIGKILL);
  Status stopped = StopNode(ctx, spec_);

  EXPECT_TRUE(stopped.ok()) << stopped.ToString();
  EXPECT_TRUE(NodeLeftovers(spec_).empty());
}

}  // namespace
}  // namespace aic::node
