#include "local/workers.h"

#include <gtest/gtest.h>

namespace aic::local {
namespace {

std::vector<WorkerSpec> Plan(const std::vector<PoolSpec>& pools,
                             const std::vector<NodeRecord>& existing = {}) {
  auto plan = PlanWorkers(pools, existing);
  EXPECT_TRUE(plan.ok()) << plan.status().message();
  return plan.ok() ? *plan : std::vector<WorkerSpec>{};
}

std::vector<std::string> Names(const std::vector<WorkerSpec>& plan) {
  std::vector<std::string> out;
  for (const auto& w : plan)
    out.push_back(w.name);
  return out;
}

TEST(PlanWorkersTest, NoWorkersMeansTheControlPlaneAlone) {
  EXPECT_TRUE(Plan(DefaultLocalSpec(0).pools).empty());
}

TEST(PlanWorkersTest, OneWorkerIsASystemNode) {
  auto plan = Plan(DefaultLocalSpec(1).pools);
  ASSERT_EQ(plan.size(), 1u);
  EXPECT_EQ(plan[0].name, "system-1");
  EXPECT_EQ(plan[0].pool.mode, "system");
  EXPECT_TRUE(plan[0].pool.taints.empty());
}

TEST(PlanWorkersTest, TwoOrMoreAddOneTaintedAcceleratorNode) {
  auto plan = Plan(DefaultLocalSpec(3).pools);
  ASSERT_EQ(Names(plan), (std::vector<std::string>{"system-1", "system-2", "gpunp-1"}));
  EXPECT_EQ(plan[1].pod_cidr, "10.244.2.0/24");
  const WorkerSpec& gpu = plan[2];
  EXPECT_EQ(gpu.index, 3);
  EXPECT_EQ(gpu.pod_cidr, "10.244.3.0/24");
  auto labels = NodeLabels(gpu.pool);
  EXPECT_EQ(labels.at("agentpool"), "gpunp");
  EXPECT_EQ(labels.at("kubernetes.azure.com/agentpool"), "gpunp");
  EXPECT_EQ(labels.at("kubernetes.azure.com/mode"), "user");
  EXPECT_EQ(labels.at("sku"), "gpu");
  ASSERT_EQ(gpu.pool.taints.size(), 1u);
  EXPECT_EQ(TaintString(gpu.pool.taints[0]), "sku=gpu:NoSchedule");
}

TEST(PlanWorkersTest, ExistingNodesKeepTheirNamesAndAddressesWhenAPoolGrows) {
  std::vector<NodeRecord> existing = {{"system-1", "system", 1, {}, {}, {}},
                                      {"gpunp-1", "gpunp", 2, {}, {}, {}}};
  auto pools = DefaultLocalSpec(2).pools;
  pools[1].count = 3;
  auto plan = Plan(pools, existing);
  ASSERT_EQ(Names(plan), (std::vector<std::string>{"system-1", "gpunp-1", "gpunp-2", "gpunp-3"}));
  EXPECT_EQ(plan[0].index, 1);
  EXPECT_EQ(plan[1].index, 2);
  EXPECT_EQ(plan[2].index, 3);
  EXPECT_EQ(plan[3].index, 4);
}

TEST(PlanWorkersTest, AShrunkPoolKeepsItsLowestNumbersAndFreedNamesAreReused) {
  // gpunp-2 was deleted earlier: index 3 and the name are free.
  std::vector<NodeRecord> existing = {{"system-1", "system", 1, {}, {}, {}},
                                      {"gpunp-1", "gpunp", 2, {}, {}, {}},
                                      {"gpunp-3", "gpunp", 4, {}, {}, {}}};
  auto pools = DefaultLocalSpec(2).pools;
  pools[1].count = 1;
  EXPECT_EQ(Names(Plan(pools, existing)), (std::vector<std::string>{"system-1", "gpunp-1"}));

  pools[1].count = 3;
  auto grown = Plan(pools, existing);
  ASSERT_EQ(Names(grown), (std::vector<std::string>{"system-1", "gpunp-1", "gpunp-2", "gpunp-3"}));
  EXPECT_EQ(grown[2].index, 3);  // the lowest index no kept node holds
  EXPECT_EQ(grown[3].index, 4);  // gpunp-3 kept its own
}

TEST(PlanWorkersTest, MoreNodesThanAddressesIsAnError) {
  std::vector<NodeRecord> existing;
  for (int i = 1; i <= 250; ++i)
    existing.push_back({"system-" + std::to_string(i), "system", i, {}, {}, {}});
  std::vector<PoolSpec> pools = {{"system", "system", 250, {}, {}}, {"gpunp", "user", 1, {}, {}}};
  auto plan = PlanWorkers(pools, existing);
  ASSERT_FALSE(plan.ok());
  EXPECT_NE(plan.status().message().find("pool gpunp"), std::string::npos);
}

TEST(PlanWorkersTest, NewNodesSkipIndexesHeldByOtherClusters) {
  auto plan = PlanWorkers(DefaultLocalSpec(2).pools, {}, {1, 2, 4});
  ASSERT_TRUE(plan.ok()) << plan.status().message();
  ASSERT_EQ(Names(*plan), (std::vector<std::string>{"system-1", "gpunp-1"}));
  EXPECT_EQ((*plan)[0].index, 3);
  EXPECT_EQ((*plan)[0].pod_cidr, "10.244.3.0/24");
  EXPECT_EQ((*plan)[1].index, 5);
  EXPECT_EQ((*plan)[1].pod_cidr, "10.244.5.0/24");
}

TEST(PlanWorkersTest, KeptNodesKeepTheirIndexEvenWhenOthersAreTaken) {
  std::vector<NodeRecord> existing = {{"system-1", "system", 7, {}, {}, {}}};
  auto plan = PlanWorkers(DefaultLocalSpec(2).pools, existing, {1});
  ASSERT_TRUE(plan.ok()) << plan.status().message();
  ASSERT_EQ(plan->size(), 2u);
  EXPECT_EQ((*plan)[0].index, 7);
  EXPECT_EQ((*plan)[1].index, 2);
}

TEST(PlanWorkersTest, AMachineWithEveryIndexHeldRefusesNewNodesAndSaysWhy) {
  std::set<int> taken;
  for (int i = 1; i <= 250; ++i)
    taken.insert(i);
  auto plan = PlanWorkers(DefaultLocalSpec(1).pools, {}, taken);
  ASSERT_FALSE(plan.ok());
  EXPECT_NE(plan.status().message().find("250 held by other clusters"), std::string::npos)
      << plan.status().message();
}

}  // namespace
}  // namespace aic::local
