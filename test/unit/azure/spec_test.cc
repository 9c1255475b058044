#include "azure/spec.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace aic::azure {
namespace {

using ::testing::HasSubstr;

Status ParseError(const std::string& yaml) {
  auto r = ParseSpec(yaml, "env.yaml");
  EXPECT_FALSE(r.ok()) << "accepted:\n" << yaml;
  return r.status();
}

TEST(Spec, ExampleParsesWithProofOfConceptDefaults) {
  auto spec = LoadSpec(AIC_SOURCE_DIR "/examples/aks-ai-conformant.yaml");
  ASSERT_TRUE(spec.ok()) << spec.status().message();
  EXPECT_EQ(spec->location, "centralus");
  EXPECT_EQ(spec->prefix, "aks-ai-conformant-dev");
  EXPECT_EQ(spec->kubernetes_version, "1.34.2");
  EXPECT_EQ(spec->system_pool.vm_size, "Standard_D2s_v3");
  EXPECT_EQ(spec->system_pool.min_count, 2);
  EXPECT_EQ(spec->system_pool.max_count, 5);
  EXPECT_EQ(spec->accelerator_pool.name, "gpunp");
  EXPECT_EQ(spec->accelerator_pool.taints, std::vector<std::string>{"sku=gpu:NoSchedule"});
  EXPECT_EQ(spec->tags.count("ManagedBy"), 1u);
  EXPECT_EQ(spec->tags.count("Purpose"), 1u);
}

TEST(Spec, EmptySpecTakesDefaults) {
  auto spec = ParseSpec("kind: AksEnvironment\n", "env.yaml");
  ASSERT_TRUE(spec.ok()) << spec.status().message();
  EXPECT_EQ(spec->ResourceGroup(), "aks-ai-conformant-dev-rg");
  EXPECT_EQ(spec->istio.revision, "asm-1-28");
  EXPECT_EQ(spec->gateway_api, "Standard");
}

TEST(Spec, BadPoolNameNamesLineColumnAndPattern) {
  Status st = ParseError("acceleratorPool:\n  name: GPU-Pool\n");
  EXPECT_EQ(st.code(), Code::kInvalidArgument);
  EXPECT_THAT(st.message(), HasSubstr("env.yaml:2:9:"));
  EXPECT_THAT(st.message(), HasSubstr("^[a-z][a-z0-9]{0,11}$"));
}

TEST(Spec, KubernetesBelow134IsRefused) {
  Status st = ParseError("cluster:\n  kubernetesVersion: 1.33.5\n");
  EXPECT_THAT(st.message(), HasSubstr("env.yaml:2:22:"));
  EXPECT_THAT(st.message(), HasSubstr("1.34 or later"));
}

TEST(Spec, MinAboveMaxIsRefused) {
  Status st = ParseError("acceleratorPool:\n  minCount: 4\n  maxCount: 3\n");
  EXPECT_THAT(st.message(), HasSubstr("env.yaml:3:13:"));
  EXPECT_THAT(st.message(), HasSubstr("below \"minCount\""));
}

TEST(Spec, MinAboveTheDefaultMaxIsRefusedToo) {
  // maxCount defaults to 3 for the accelerator pool.
  Status st = ParseError("acceleratorPool:\n  minCount: 5\n");
  EXPECT_THAT(st.message(), HasSubstr("env.yaml:2:13:"));
  EXPECT_THAT(st.message(), HasSubstr("\"maxCount\" (3) is below \"minCount\" (5)"));
}

TEST(Spec, PoolsWithTheSameNameAreRefusedAtTheName) {
  Status st =
      ParseError("cluster:\n  systemPool:\n    name: pool\nacceleratorPool:\n  name: pool\n");
  EXPECT_THAT(st.message(), HasSubstr("env.yaml:5:9:"));
  EXPECT_THAT(st.message(), HasSubstr("both named \"pool\""));
}

TEST(Spec, PoolThatIsNotAMappingIsOneError) {
  Status st = ParseError("acceleratorPool: gpunp\n");
  EXPECT_THAT(st.message(), HasSubstr("env.yaml:1:18: \"acceleratorPool\" must be a mapping"));
  EXPECT_EQ(st.message().find('\n'), std::string::npos) << st.message();
}

TEST(Spec, UnknownVmSizeShapeListsExamples) {
  Status st = ParseError("cluster:\n  systemPool:\n    vmSize: D2s_v3\n");
  EXPECT_THAT(st.message(), HasSubstr("env.yaml:3:13:"));
  EXPECT_THAT(st.message(), HasSubstr("Standard_D2s_v3"));
}

TEST(Spec, GpuDriverNeedsAGpuSize) {
  Status st = ParseError("acceleratorPool:\n  vmSize: Standard_D4s_v3\n  gpuDriver: Install\n");
  EXPECT_THAT(st.message(), HasSubstr("N-series"));
  auto ok = ParseSpec("acceleratorPool:\n  vmSize: Standard_NC24ads_A100_v4\n  gpuDriver: None\n",
                      "env.yaml");
  EXPECT_TRUE(ok.ok()) << ok.status().message();
}

TEST(Spec, GpuDriverEnumIsEnforced) {
  Status st = ParseError("acceleratorPool:\n  vmSize: Standard_NC6s_v3\n  gpuDriver: Auto\n");
  EXPECT_THAT(st.message(), HasSubstr("allowed: , Install, None"));
}

TEST(Spec, UnknownFieldIsATypoNotSilence) {
  Status st = ParseError("cluster:\n  gatewayApi: Standard\n");
  EXPECT_THAT(st.message(), HasSubstr("env.yaml:2:3: unknown field \"gatewayApi\""));
  EXPECT_THAT(st.message(), HasSubstr("gatewayAPI"));
}

TEST(Spec, EveryProblemIsReportedAtOnce) {
  Status st = ParseError("location: Central US\nacceleratorPool:\n  name: x_y\n  taints: [bad]\n");
  EXPECT_THAT(st.message(), HasSubstr("env.yaml:1:"));
  EXPECT_THAT(st.message(), HasSubstr("env.yaml:3:"));
  EXPECT_THAT(st.message(), HasSubstr("env.yaml:4:"));
}

TEST(Spec, MalformedYamlHasAPosition) {
  Status st = ParseError("cluster:\n  systemPool: [\n");
  EXPECT_THAT(st.message(), HasSubstr("env.yaml:"));
}

TEST(Spec, AllowlistRendersInTheApiFormat) {
  EXPECT_EQ(RenderAllowlist({{"namespaces", {"a", "b"}}, {"pods", {"app"}}}),
            "namespaces=[a,b],pods=[app]");
}

}  // namespace
}  // namespace aic::azure
