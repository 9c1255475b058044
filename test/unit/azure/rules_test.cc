#include "azure/rules.h"

#include <array>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <set>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace aic::azure {
namespace {

namespace fs = std::filesystem;

// Runs a command and returns its exit status, with its combined output in `out`.
int RunCommand(const std::string& cmd, std::string* out) {
  FILE* p = popen((cmd + " 2>&1").c_str(), "r");
  if (!p) return -1;
  std::array<char, 4096> buf;
  while (size_t n = fread(buf.data(), 1, buf.size(), p))
    out->append(buf.data(), n);
  return pclose(p);
}

class RecordingRules : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("aic-rules-" + std::to_string(getpid()));
    fs::create_directories(dir_);
    std::ofstream(dir_ / "rules.yaml") << RecordingRulesAsPrometheusYaml();
    fs::copy_file(AIC_SOURCE_DIR "/test/unit/azure/testdata/recording_rules_test.yaml",
                  dir_ / "test.yaml", fs::copy_options::overwrite_existing);
  }
  void TearDown() override { fs::remove_all(dir_); }
  fs::path dir_;
};

TEST(RecordingRuleSet, HasTheElevenNodeAndNineteenKubernetesRules) {
  EXPECT_EQ(NodeRecordingRules().size(), 11u);
  EXPECT_EQ(KubernetesRecordingRules().size(), 19u);
  std::set<std::string> node;
  for (const auto& r : NodeRecordingRules())
    node.insert(r.record);
  EXPECT_EQ(node.size(), 11u) << "node rule names must be distinct";
  int relabel = 0;
  for (const auto& r : KubernetesRecordingRules()) {
    if (r.record == "namespace_workload_pod:kube_pod_owner:relabel") ++relabel;
  }
  EXPECT_EQ(relabel, 4);
}

TEST_F(RecordingRules, PassPromtoolCheck) {
  std::string out;
  int rc = RunCommand(std::string(AIC_PROMTOOL) + " check rules " + (dir_ / "rules.yaml").string(),
                      &out);
  EXPECT_EQ(rc, 0) << out;
  EXPECT_THAT(out, ::testing::HasSubstr("30 rules found"));
}

TEST_F(RecordingRules, ComputeWhatTheirNamesClaim) {
  std::string out;
  int rc =
      RunCommand(std::string(AIC_PROMTOOL) + " test rules " + (dir_ / "test.yaml").string(), &out);
  EXPECT_EQ(rc, 0) << out;
}

}  // namespace
}  // namespace aic::azure
