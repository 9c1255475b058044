#include <chrono>
#include <filesystem>
#include <string>

#include <gtest/gtest.h>

#include "integration/node/node_fixture.h"
#include "local/images/catalog.h"
#include "local/images/digest.h"
#include "local/node/cri.h"
#include "local/node/exec.h"
#include "local/node/network.h"

namespace aic::node {
namespace {

using std::chrono::duration_cast;
using std::chrono::milliseconds;

// A node with containerd running, our two images imported and the CRI reporting ready.
class CriPodTest : public NodeTest {
 protected:
  void SetUp() override {
    NodeTest::SetUp();
    if (IsSkipped()) return;
    cri_ = StartReadyNode(spec_);
  }

  // Starts `node`, imports the pause and probe images and waits for the CRI to be ready.
  std::unique_ptr<CriClient> StartReadyNode(const NodeSpec& node) {
    auto handle = StartNode(ctx_, node);
    EXPECT_TRUE(handle.ok()) << handle.status().ToString();
    if (!handle.ok()) return nullptr;
    for (const auto& spec :
         {images::PauseImageSpec(images::DefaultPauseBinary()), images::ProbeImageSpec()}) {
      auto archive = images::BuildImage(spec, base_ + "/images");
      EXPECT_TRUE(archive.ok()) << archive.status().ToString();
      if (!archive.ok()) return nullptr;
      Status imported = ImportImage(ctx_, node, archive->path);
      EXPECT_TRUE(imported.ok()) << imported.ToString();
      if (!imported.ok()) return nullptr;
    }
    auto cri = std::make_unique<CriClient>(handle->socket);
    Status ready = cri->WaitReady(ctx_.Child(milliseconds(30000)));
    EXPECT_TRUE(ready.ok()) << ready.ToString();
    return ready.ok() ? std::move(cri) : nullptr;
  }

  cri::PodSandboxConfig SandboxConfig(const std::string& name) {
    return SandboxConfig(spec_, name);
  }

  cri::PodSandboxConfig SandboxConfig(const NodeSpec& node, const std::string& name) {
    cri::PodSandboxConfig config;
    config.mutable_metadata()->set_name(name);
    config.mutable_metadata()->set_uid("uid-" + name);
    config.mutable_metadata()->set_namespace_("default");
    config.set_hostname(name);
    config.set_log_directory(node.dir + "/pods/" + name);
    config.mutable_linux()->set_cgroup_parent(CgroupParent(node) + "/pod-" + name);
    std::filesystem::create_directories(config.log_directory());
    return config;
  }

  // A probe container that logs a line and serves /www on port 8080.
  cri::ContainerConfig ProbeConfig() {
    cri::ContainerConfig config;
    config.mutable_metadata()->set_name("probe");
    config.mutable_image()->set_image(images::kProbeImage);
    config.add_command("/bin/sh");
    config.add_command("-c");
    config.add_command(
        "echo hello from $(hostname) | tee /www/index.html; exec httpd -f -v -p 8080 -h /www");
    config.set_log_path("probe.log");
    return config;
  }

  // Runs the pod and waits until the probe container runs; returns sandbox and container ids.
  std::pair<std::string, std::string> RunProbePod(const std::string& name) {
    return RunProbePod(*cri_, spec_, name);
  }

  std::pair<std::string, std::string> RunProbePod(CriClient& cri, const NodeSpec& node,
                                                  const std::string& name) {
    cri::PodSandboxConfig sandbox = SandboxConfig(node, name);
    auto started = Clock::now();
    auto pod = cri.RunPodSandbox(ctx_, sandbox);
    EXPECT_TRUE(pod.ok()) << pod.status().ToString();
    if (!pod.ok()) return {};
    auto ctr = cri.CreateContainer(ctx_, *pod, ProbeConfig(), sandbox);
    EXPECT_TRUE(ctr.ok()) << ctr.status().ToString();
    if (!ctr.ok()) return {*pod, ""};
    Status start = cri.StartContainer(ctx_, *ctr);
    EXPECT_TRUE(start.ok()) << start.ToString();
    RecordProperty("pod_start_ms",
                   std::to_string(duration_cast<milliseconds>(Clock::now() - started).count()));
    return {*pod, *ctr};
  }

  Context ctx_ = Context::WithTimeout(std::chrono::seconds(180));
  std::unique_ptr<CriClient> cri_;
};

TEST_F(CriPodTest, ProbeContainerRunsInASandboxOnThePodNetworkAndIsRemovedCleanly) {
  ASSERT_TRUE(cri_->ImageId(ctx_, images::kPauseImage).ok());
  auto [pod, ctr] = RunProbePod("probe");
  ASSERT_FALSE(ctr.empty());

  auto sandbox = cri_->PodSandboxStatus(ctx_, pod);
  ASSERT_TRUE(sandbox.ok()) << sandbox.status().ToString();
  EXPECT_EQ(sandbox->state(), cri::SANDBOX_READY);
  std::string ip = sandbox->network().ip();
  EXPECT_TRUE(ip.starts_with(fmt::format("10.244.{}.", spec_.index))) << ip;

  // The log line reaches the CRI log file; the host reaches the pod through the node.
  std::string log;
  for (int i = 0; i < 100 && log.find("hello from probe") == std::string::npos; ++i) {
    ctx_.Sleep(milliseconds(50)).ok();
    auto text = images::ReadFile(spec_.dir + "/pods/probe/probe.log");
    if (text.ok()) log = *text;
  }
  EXPECT_NE(log.find("stdout F hello from probe"), std::string::npos) << log;
  auto page = node::Run(ctx_, {"busybox", "wget", "-q", "-O-", "http://" + ip + ":8080/"});
  ASSERT_TRUE(page.ok()) << page.status().ToString();
  EXPECT_EQ(*page, "hello from probe\n");
  auto exec = cri_->ExecSync(ctx_, ctr, {"cat", "/www/index.html"}, 10);
  ASSERT_TRUE(exec.ok()) << exec.status().ToString();
  EXPECT_EQ(exec->stdout(), "hello from probe\n");

  EXPECT_TRUE(cri_->StopContainer(ctx_, ctr, 5).ok());
  EXPECT_TRUE(cri_->RemoveContainer(ctx_, ctr).ok());
  EXPECT_TRUE(cri_->StopPodSandbox(ctx_, pod).ok());
  EXPECT_TRUE(cri_->RemovePodSandbox(ctx_, pod).ok());
  Status stopped = StopNode(ctx_, spec_);
  EXPECT_TRUE(stopped.ok()) << stopped.ToString();
  EXPECT_EQ(NodeLeftovers(spec_), std::vector<std::string>{});
}

TEST_F(CriPodTest, StopNodeWithPodsStillRunningLeavesNothingBehind) {
  auto [pod, ctr] = RunProbePod("busy");
  ASSERT_FALSE(ctr.empty());

  Status stopped = StopNode(ctx_, spec_);

  EXPECT_TRUE(stopped.ok()) << stopped.ToString();
  EXPECT_EQ(NodeLeftovers(spec_), std::vector<std::string>{});
}

TEST_F(CriPodTest, PodsOnTwoNodesReachEachOtherWithoutAddressTranslation) {
  auto forwarding = EnableHostForwarding();
  ASSERT_TRUE(forwarding.ok()) << forwarding.status().ToString();
  NodeSpec other = MakeNodeSpec(spec_.name + "b", spec_.index + 50, base_);
  other.containerd_bin_dir = spec_.containerd_bin_dir;
  other.sandbox_image = spec_.sandbox_image;
  struct Restore {
    ~Restore() {
      EXPECT_TRUE(StopNode(Context::WithTimeout(std::chrono::seconds(60)), node, true).ok());
      EXPECT_EQ(NodeLeftovers(node), std::vector<std::string>{});
      EXPECT_TRUE(SetHostForwarding(forwarding).ok());
    }
    NodeSpec node;
    std::string forwarding;
  } restore{other, *forwarding};
  auto other_cri = StartReadyNode(other);
  ASSERT_NE(other_cri, nullptr);

  auto [pod_a, ctr_a] = RunProbePod("a");
  auto [pod_b, ctr_b] = RunProbePod(*other_cri, other, "b");
  ASSERT_FALSE(ctr_a.empty() || ctr_b.empty());
  std::string ip_a = cri_->PodSandboxStatus(ctx_, pod_a)->network().ip();
  std::string ip_b = other_cri->PodSandboxStatus(ctx_, pod_b)->network().ip();

  // httpd may still be starting: retry the first request briefly.
  Result<cri::ExecSyncResponse> page = Status(Code::kUnavailable, "not tried");
  for (int i = 0; i < 50; ++i) {
    page = cri_->ExecSync(ctx_, ctr_a, {"wget", "-q", "-O-", "http://" + ip_b + ":8080/"}, 10);
    if (page.ok() && page->exit_code() == 0) break;
    ctx_.Sleep(milliseconds(100)).ok();
  }
  ASSERT_TRUE(page.ok()) << page.status().ToString();
  EXPECT_EQ(page->stdout(), "hello from b\n") << page->stderr();

  // B's httpd logs the peer address ("[::ffff:<ip>]:<port>"): pod A's own, not a node's.
  auto log = images::ReadFile(other.dir + "/pods/b/probe.log");
  ASSERT_TRUE(log.ok());
  EXPECT_NE(log->find("[::ffff:" + ip_a + "]:"), std::string::npos) << *log;
}

}  // namespace
}  // namespace aic::node
