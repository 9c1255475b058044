#include "azure/engine.h"

#include <gtest/gtest.h>

namespace aic::azure {
namespace {

using std::chrono::milliseconds;

std::vector<Resource> Defaults() {
  return BuildResources(*ParseSpec("kind: AksEnvironment\n", "x"), "sub");
}

milliseconds Emulated(const std::string& key) {
  if (key == "cluster") return milliseconds(600);
  if (key.rfind("pool/", 0) == 0) return milliseconds(300);
  if (key.rfind("feature/", 0) == 0) return milliseconds(200);
  return milliseconds(10);
}

TEST(Engine, OfflinePlanCreatesEverythingAndRegistersFeatures) {
  auto changes = OfflinePlan(Defaults());
  auto requests = Requests(changes);
  ASSERT_EQ(requests.size(), changes.size());
  EXPECT_EQ(requests[0].method, "POST");
  EXPECT_EQ(requests[0].path,
            "/subscriptions/sub/providers/Microsoft.Features/providers/"
            "Microsoft.ContainerService/features/ManagedGatewayAPIPreview/register?api-version="
            "2021-07-01");
  EXPECT_EQ(requests[0].body, nlohmann::json::object()) << "what ArmClient::Post sends";
  EXPECT_EQ(requests[1].path,
            "/subscriptions/sub/providers/Microsoft.ContainerService/register?api-version="
            "2024-11-01");
  for (size_t i = 2; i < requests.size(); ++i)
    EXPECT_EQ(requests[i].method, "PUT");
}

TEST(Engine, CriticalPathFollowsTheLongestChain) {
  auto changes = OfflinePlan(Defaults());
  // feature -> provider -> cluster -> pool is the longest chain.
  EXPECT_EQ(CriticalPath(changes, Emulated), milliseconds(200 + 10 + 600 + 300));
}

TEST(Engine, UnchangedStepsCostNothingOnTheCriticalPath) {
  auto changes = OfflinePlan(Defaults());
  for (auto& c : changes) {
    if (c.resource.key != "pool/gpunp") c.action = Action::kUnchanged;
  }
  EXPECT_EQ(CriticalPath(changes, Emulated), milliseconds(300));
  EXPECT_EQ(Requests(changes).size(), 1u);
}

}  // namespace
}  // namespace aic::azure
