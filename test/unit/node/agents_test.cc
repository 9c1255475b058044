#include "local/node/agents.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace aic::node {
namespace {

using ::testing::HasSubstr;

NodeSpec Spec() {
  NodeSpec spec = MakeNodeSpec("gpunp-1", 101, "/var/tmp/aic-c1");
  spec.containerd_bin_dir = "/opt/containerd";
  return spec;
}

TEST(KubeletConfigTest, UsesTheNodesRuntimeCgroupRootAndAddress) {
  AgentOptions o;
  o.ca_file = "/var/tmp/aic-c1/pki/ca.crt";
  std::string config = KubeletConfig(Spec(), o);
  EXPECT_THAT(config, HasSubstr("containerRuntimeEndpoint: unix:///var/tmp/aic-c1/nodes/gpunp-1/"
                                "containerd/state/containerd.sock"));
  EXPECT_THAT(config, HasSubstr("cgroupDriver: cgroupfs"));
  EXPECT_THAT(config, HasSubstr("cgroupRoot: /aic101-gpunp-1"));
  EXPECT_THAT(config, HasSubstr("address: 10.250.101.2"));
  EXPECT_THAT(config, HasSubstr("clientCAFile: /var/tmp/aic-c1/pki/ca.crt"));
  EXPECT_THAT(config, HasSubstr("mode: Webhook"));
  EXPECT_THAT(config, HasSubstr("clusterDNS: [10.96.0.10]"));
  EXPECT_THAT(config, HasSubstr("failCgroupV1: false"));
  EXPECT_THAT(config, HasSubstr("oomScoreAdj: 0"));
  EXPECT_THAT(config, HasSubstr("podLogsDir: /var/tmp/aic-c1/nodes/gpunp-1/pod-logs"));
}

TEST(KubeProxyConfigTest, IptablesModeForTheNodeWithConntrackLeftAlone) {
  std::string config = KubeProxyConfig(Spec(), AgentOptions{});
  EXPECT_THAT(config, HasSubstr("mode: iptables"));
  EXPECT_THAT(config, HasSubstr("hostnameOverride: gpunp-1"));
  EXPECT_THAT(config, HasSubstr("clusterCIDR: 10.244.0.0/16"));
  EXPECT_THAT(config, HasSubstr("maxPerCore: 0"));
  EXPECT_THAT(config,
              HasSubstr("kubeconfig: /var/tmp/aic-c1/nodes/gpunp-1/config/kube-proxy.conf"));
}

TEST(AgentPathsTest, EverythingLivesUnderTheNodeDirectory) {
  AgentPaths p = AgentPathsOf(Spec());
  for (const std::string& path : {p.kubelet_root, p.kubelet_config, p.kubelet_kubeconfig,
                                  p.kubelet_cert, p.kubelet_key, p.kubelet_log, p.proxy_config,
                                  p.proxy_kubeconfig, p.proxy_log, p.resolv_conf, p.pod_logs}) {
    EXPECT_EQ(path.rfind("/var/tmp/aic-c1/nodes/gpunp-1/", 0), 0u) << path;
  }
}

}  // namespace
}  // namespace aic::node
