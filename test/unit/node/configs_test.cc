#include <string>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "local/node/configs.h"
#include "local/node/node_spec.h"

namespace aic::node {
namespace {

NodeSpec Spec() {
  NodeSpec spec = MakeNodeSpec("w1", 3, "/var/lib/aic");
  spec.containerd_bin_dir = "/cache/containerd";
  spec.sandbox_image = "aiconform.local/pause:1";
  return spec;
}

bool Has(const std::string& text, const std::string& line) {
  return text.find(line) != std::string::npos;
}

TEST(NodeSpecTest, AddressesAndKernelNamesFollowTheIndexAndName) {
  NodeSpec spec = Spec();

  EXPECT_EQ(spec.pod_cidr, "10.244.3.0/24");
  EXPECT_EQ(spec.host_ip, "10.250.3.1");
  EXPECT_EQ(spec.node_ip, "10.250.3.2");
  EXPECT_EQ(NetnsPath(spec), "/run/netns/aic3-w1");
  EXPECT_EQ(HostVethName(spec), "aicv3-w1");
  EXPECT_EQ(CgroupParent(spec), "/aic3-w1");
  EXPECT_EQ(PathsOf(spec).socket, "/var/lib/aic/nodes/w1/containerd/state/containerd.sock");
  EXPECT_TRUE(ValidateNodeSpec(spec).ok());
}

TEST(NodeSpecTest, RejectsNamesThatDoNotFitKernelNames) {
  NodeSpec spec = Spec();
  spec.name = "worker-number-1";
  EXPECT_EQ(ValidateNodeSpec(spec).code(), Code::kInvalidArgument);
  spec.name = "W1";
  EXPECT_EQ(ValidateNodeSpec(spec).code(), Code::kInvalidArgument);
}

TEST(NodeSpecTest, HostLinkNamesFitTheKernelAndStayUniqueWhenCut) {
  NodeSpec a = MakeNodeSpec("abcdefghij", 250, "/var/lib/aic");
  NodeSpec b = MakeNodeSpec("abcdefghik", 251 - 2, "/var/lib/aic");
  EXPECT_EQ(HostVethName(a), "aicv250-abcdefg");
  EXPECT_LE(HostVethName(b).size(), 15u);
  EXPECT_NE(HostVethName(a), HostVethName(b));
  EXPECT_EQ(NetnsName(a), "aic250-abcdefghij");
}

TEST(NodeSpecTest, RejectsDirectoriesTooLongForTheSocketPath) {
  NodeSpec spec = MakeNodeSpec("w1", 1, "/" + std::string(90, 'x'));
  EXPECT_EQ(ValidateNodeSpec(spec).code(), Code::kInvalidArgument);
}

TEST(ContainerdConfigTest, KeepsEveryPathUnderTheNodeAndSetsWhatThisMachineNeeds) {
  std::string config = ContainerdConfig(Spec());

  EXPECT_TRUE(Has(config, "version = 3\n"));
  EXPECT_TRUE(Has(config, "root = \"/var/lib/aic/nodes/w1/containerd/root\""));
  EXPECT_TRUE(Has(config, "state = \"/var/lib/aic/nodes/w1/containerd/state\""));
  EXPECT_TRUE(Has(config, "address = \"/var/lib/aic/nodes/w1/containerd/state/containerd.sock\""));
  EXPECT_TRUE(Has(config, "Root = \"/var/lib/aic/nodes/w1/containerd/state/runc\""));
  EXPECT_TRUE(Has(config, "snapshotter = \"overlayfs\""));
  EXPECT_TRUE(Has(config, "SystemdCgroup = false"));
  EXPECT_TRUE(Has(config, "restrict_oom_score_adj = true"));
  EXPECT_TRUE(Has(config, "netns_mounts_under_state_dir = true"));
  EXPECT_TRUE(Has(config, "enable_cdi = true"));
  EXPECT_TRUE(Has(config, "cdi_spec_dirs = [\"/var/lib/aic/nodes/w1/cdi\"]"));
  EXPECT_TRUE(Has(config, "sandbox = \"aiconform.local/pause:1\""));
  EXPECT_TRUE(Has(config, "bin_dirs = [\"/usr/lib/cni\"]"));
  EXPECT_TRUE(Has(config, "conf_dir = \"/var/lib/aic/nodes/w1/cni/net.d\""));
}

TEST(CniConflistTest, BridgeWithHostLocalIpamOnThePodCidrAndPortmap) {
  auto list = nlohmann::json::parse(CniConflist(Spec()));

  EXPECT_EQ(list["name"], "aic-w1");
  ASSERT_EQ(list["plugins"].size(), 2u);
  const auto& bridge = list["plugins"][0];
  EXPECT_EQ(bridge["type"], "bridge");
  EXPECT_EQ(bridge["isGateway"], true);
  EXPECT_EQ(bridge["ipMasq"], false);
  EXPECT_EQ(bridge["ipam"]["type"], "host-local");
  EXPECT_EQ(bridge["ipam"]["ranges"][0][0]["subnet"], "10.244.3.0/24");
  EXPECT_EQ(bridge["ipam"]["dataDir"], "/var/lib/aic/nodes/w1/cni/ipam");
  EXPECT_EQ(list["plugins"][1]["type"], "portmap");
  EXPECT_EQ(list["plugins"][1]["capabilities"]["portMappings"], true);
}

}  // namespace
}  // namespace aic::node
