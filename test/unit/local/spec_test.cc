#include "local/spec.h"

#include <filesystem>
#include <fstream>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace aic::local {
namespace {

using ::testing::HasSubstr;

std::string ErrorOf(const std::string& yaml) {
  auto spec = ParseLocalSpec(yaml, "local.yaml");
  EXPECT_FALSE(spec.ok()) << "accepted:\n" << yaml;
  return spec.ok() ? "" : spec.status().message();
}

TEST(LocalSpecTest, TheExampleSpecReadsAsTheDefaultTwoWorkers) {
  auto spec = LoadLocalSpec(std::string(AIC_SOURCE_DIR) + "/examples/local.yaml");
  ASSERT_TRUE(spec.ok()) << spec.status().message();
  EXPECT_EQ(spec->pools, DefaultLocalSpec(2).pools);
}

TEST(LocalSpecTest, FieldsDefaultAndLabelsAndTaintsAreRead) {
  auto spec = ParseLocalSpec(R"(
pools:
  - name: sys
    mode: system
  - name: big
    count: 3
    labels: {example.com/tier: fast}
    taints: ["dedicated=ml:NoExecute", "sku=gpu:NoSchedule"]
)",
                             "local.yaml");
  ASSERT_TRUE(spec.ok()) << spec.status().message();
  ASSERT_EQ(spec->pools.size(), 2u);
  EXPECT_EQ(spec->pools[0].count, 1);
  EXPECT_EQ(spec->pools[1].mode, "user");
  EXPECT_EQ(spec->pools[1].count, 3);
  EXPECT_EQ(spec->pools[1].labels.at("example.com/tier"), "fast");
  ASSERT_EQ(spec->pools[1].taints.size(), 2u);
  EXPECT_EQ(spec->pools[1].taints[0], (Taint{"dedicated", "ml", "NoExecute"}));
}

TEST(LocalSpecTest, ErrorsNameFileLineColumnAndTheAllowedValues) {
  std::string err = ErrorOf(R"(pools:
  - name: System
    mode: manager
    count: 120
    colour: red
)");
  EXPECT_THAT(err, HasSubstr("local.yaml:2:11: \"name\" is \"System\"; allowed: a lowercase"));
  EXPECT_THAT(err, HasSubstr("local.yaml:3:11: \"mode\" is \"manager\"; allowed: system, user"));
  EXPECT_THAT(err, HasSubstr("local.yaml:4:12: \"count\" is 120; allowed: 0..99"));
  EXPECT_THAT(err, HasSubstr("local.yaml:5:5: unknown field \"colour\" in a pool; allowed: name"));
}

TEST(LocalSpecTest, BadLabelsAndTaintsAreRejected) {
  std::string err = ErrorOf(R"(pools:
  - name: system
    mode: system
    labels: {agentpool: x, "bad key!": y, ok: "no spaces allowed"}
    taints: ["sku=gpu:Sometimes"]
)");
  EXPECT_THAT(err, HasSubstr("label \"agentpool\" is set by aiconform"));
  EXPECT_THAT(err, HasSubstr("\"bad key!\" is not a Kubernetes label key"));
  EXPECT_THAT(err, HasSubstr("label \"ok\": \"no spaces allowed\" is not a Kubernetes label"));
  EXPECT_THAT(err, HasSubstr("local.yaml:5:14: taint \"sku=gpu:Sometimes\": expected"));
}

TEST(LocalSpecTest, DuplicatePoolsAndNoSystemNodeAreRejected) {
  EXPECT_THAT(ErrorOf("pools: [{name: a, mode: system}, {name: a}]"),
              HasSubstr("a second pool is named \"a\""));
  EXPECT_THAT(ErrorOf("pools: [{name: a, mode: system, count: 0}, {name: b}]"),
              HasSubstr("local.yaml: no node in a pool with mode system"));
  EXPECT_THAT(ErrorOf("pools: [{name: a, mode: system, count: 60}, {name: b, count: 60}]"),
              HasSubstr("120 nodes in all; at most 99"));
}

TEST(LocalSpecTest, MalformedYamlAndWrongShapesAreClearErrors) {
  EXPECT_THAT(ErrorOf("pools: [unclosed"), HasSubstr("local.yaml:1:"));
  EXPECT_THAT(ErrorOf("- a\n- b\n"), HasSubstr("the spec must be a mapping with \"pools\""));
  EXPECT_THAT(ErrorOf("pool: []\n"), HasSubstr("unknown field \"pool\" in the spec"));
  EXPECT_THAT(ErrorOf("pools: {name: a}\n"), HasSubstr("\"pools\" must be a list"));
  EXPECT_THAT(ErrorOf("pools:\n  - mode: system\n"), HasSubstr("a pool needs a \"name\""));
}

TEST(LocalSpecTest, AMissingFileIsNamed) {
  auto spec = LoadLocalSpec("/nonexistent/local.yaml");
  ASSERT_FALSE(spec.ok());
  EXPECT_THAT(spec.status().message(), HasSubstr("/nonexistent/local.yaml: cannot read"));
}

TEST(LocalSpecTest, TaintsRoundTripThroughTheirKubectlForm) {
  auto t = ParseTaint("example.com/dedicated=:PreferNoSchedule");
  ASSERT_TRUE(t.ok());
  EXPECT_EQ(t->key, "example.com/dedicated");
  EXPECT_EQ(t->value, "");
  EXPECT_EQ(TaintString(*t), "example.com/dedicated=:PreferNoSchedule");
  EXPECT_FALSE(ParseTaint("novalue").ok());
}

}  // namespace
}  // namespace aic::local
