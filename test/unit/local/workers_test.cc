#include "local/workers.h"

#include <gtest/gtest.h>

namespace aic::local {
namespace {

TEST(PlanWorkersTest, NoWorkersMeansTheControlPlaneAlone) {
  EXPECT_TRUE(PlanWorkers(0).empty());
}

TEST(PlanWorkersTest, OneWorkerIsASystemNode) {
  auto plan = PlanWorkers(1);
  ASSERT_EQ(plan.size(), 1u);
  EXPECT_EQ(plan[0].name, "system-1");
  EXPECT_TRUE(plan[0].pool.taints.empty());
}

TEST(PlanWorkersTest, TwoOrMoreAddOneTaintedAcceleratorNode) {
  auto plan = PlanWorkers(3);
  ASSERT_EQ(plan.size(), 3u);
  EXPECT_EQ(plan[0].name, "system-1");
  EXPECT_EQ(plan[1].name, "system-2");
  EXPECT_EQ(plan[1].pod_cidr, "10.244.2.0/24");
  const WorkerSpec& gpu = plan[2];
  EXPECT_EQ(gpu.name, "gpunp-1");
  EXPECT_EQ(gpu.index, 101);
  EXPECT_EQ(gpu.pod_cidr, "10.244.101.0/24");
  EXPECT_EQ(gpu.pool.labels.at("agentpool"), "gpunp");
  EXPECT_EQ(gpu.pool.labels.at("kubernetes.azure.com/agentpool"), "gpunp");
  ASSERT_EQ(gpu.pool.taints.size(), 1u);
  EXPECT_EQ(gpu.pool.taints[0].key, "sku");
  EXPECT_EQ(gpu.pool.taints[0].value, "gpu");
  EXPECT_EQ(gpu.pool.taints[0].effect, "NoSchedule");
}

}  // namespace
}  // namespace aic::local
