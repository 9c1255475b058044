#include <chrono>
#include <filesystem>
#include <string>

#include <gtest/gtest.h>

#include "integration/node/node_fixture.h"
#include "local/images/catalog.h"
#include "local/images/digest.h"
#include "local/node/cri.h"
#include "local/node/exec.h"

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
    auto node = StartNode(ctx_, spec_);
    ASSERT_TRUE(node.ok()) << node.status().ToString();
    for (const auto& spec :
         {images::PauseImageSpec(images::DefaultPauseBinary()), images::ProbeImageSpec()}) {
      auto archive = images::BuildImage(spec, base_ + "/images");
      ASSERT_TRUE(archive.ok()) << archive.status().ToString();
      Status imported = ImportImage(ctx_, spec_, archive->path);
      ASSERT_TRUE(imported.ok()) << imported.ToString();
    }
    cri_ = std::make_unique<CriClient>(node->socket);
    Status ready = cri_->WaitReady(ctx_.Child(milliseconds(30000)));
    ASSERT_TRUE(ready.ok()) << ready.ToString();
  }

  cri::PodSandboxConfig SandboxConfig(const std::string& name) {
    cri::PodSandboxConfig config;
    config.mutable_metadata()->set_name(name);
    config.mutable_metadata()->set_uid("uid-" + name);
    config.mutable_metadata()->set_namespace_("default");
    config.set_hostname(name);
    config.set_log_directory(spec_.dir + "/pods/" + name);
    config.mutable_linux()->set_cgroup_parent(CgroupParent(spec_) + "/pod-" + name);
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
        "echo hello from $(hostname) | tee /www/index.html; exec httpd -f -p 8080 -h /www");
    config.set_log_path("probe.log");
    return config;
  }

  // Runs the pod and waits until the probe container runs; returns sandbox and container ids.
  std::pair<std::string, std::string> RunProbePod(const std::string& name) {
    cri::PodSandboxConfig sandbox = SandboxConfig(name);
    auto started = Clock::now();
    auto pod = cri_->RunPodSandbox(ctx_, sandbox);
    EXPECT_TRUE(pod.ok()) << pod.status().ToString();
    if (!pod.ok()) return {};
    auto ctr = cri_->CreateContainer(ctx_, *pod, ProbeConfig(), sandbox);
    EXPECT_TRUE(ctr.ok()) << ctr.status().ToString();
    if (!ctr.ok()) return {*pod, ""};
    Status start = cri_->StartContainer(ctx_, *ctr);
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
  EXPECT_TRUE(ip.starts_with("10.244.201.")) << ip;

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

}  // namespace
}  // namespace aic::node
