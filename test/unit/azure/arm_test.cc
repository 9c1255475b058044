#include "azure/arm.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace aic::azure {
namespace {

using ::testing::ElementsAre;
using ::testing::Pair;
using ::testing::UnorderedElementsAre;

TEST(RateLimit, SubscriptionTenantAndGlobalHeadersFillTheirKindsBucket) {
  http::Headers h = {{"X-Ms-Ratelimit-Remaining-Subscription-Reads", "11999"},
                     {"x-ms-ratelimit-remaining-tenant-reads", "42"},
                     {"x-ms-ratelimit-remaining-subscription-global-writes", "7"},
                     {"x-ms-ratelimit-remaining-subscription-deletes", "150"},
                     {"x-ms-correlation-request-id", "abc"}};
  EXPECT_THAT(RateLimitBudgets(h, "GET"),
              UnorderedElementsAre(Pair("reads", 42), Pair("writes", 7), Pair("deletes", 150)));
}

TEST(RateLimit, HeaderWithoutAKindCountsForTheRequestsKind) {
  http::Headers h = {{"x-ms-ratelimit-remaining-subscription-resource-requests", "3"}};
  EXPECT_THAT(RateLimitBudgets(h, "PUT"), ElementsAre(Pair("writes", 3)));
  EXPECT_THAT(RateLimitBudgets(h, "DELETE"), ElementsAre(Pair("deletes", 3)));
}

TEST(RateLimit, ResourceProviderLimitsKeepTheSmallestCountPerNamespace) {
  http::Headers h = {{"x-ms-ratelimit-remaining-resource",
                      "Microsoft.ContainerService/PutManagedCluster3Min;12, "
                      "Microsoft.ContainerService/PutManagedCluster30Min;4,garbage;x"}};
  EXPECT_THAT(RateLimitBudgets(h, "PUT"),
              ElementsAre(Pair("provider:microsoft.containerservice", 4)));
}

TEST(RateLimit, UnparsableValuesAreIgnored) {
  http::Headers h = {{"x-ms-ratelimit-remaining-subscription-reads", "many"}};
  EXPECT_TRUE(RateLimitBudgets(h, "GET").empty());
}

TEST(RateLimit, CallsDrawFromTheirKindAndTheirProvider) {
  EXPECT_THAT(RateLimitBuckets("GET", "/subscriptions/s/resourceGroups/rg?api-version=1"),
              ElementsAre("reads"));
  EXPECT_THAT(RateLimitBuckets("PUT",
                               "/subscriptions/s/resourceGroups/rg/providers/"
                               "Microsoft.ContainerService/managedClusters/c/agentPools/p"),
              ElementsAre("writes", "provider:microsoft.containerservice"));
  EXPECT_THAT(RateLimitBuckets("DELETE",
                               "/subscriptions/s/resourceGroups/rg/providers/Microsoft."
                               "ContainerService/managedClusters/c/providers/Microsoft.Insights/"
                               "dataCollectionRuleAssociations/a"),
              ElementsAre("deletes", "provider:microsoft.insights"));
}

TEST(ArmError, CodeMessageAndEveryDetailReachTheUser) {
  json body = {{"error",
                {{"code", "InvalidTemplateDeployment"},
                 {"message", "The template deployment failed."},
                 {"details",
                  {{{"code", "QuotaExceeded"}, {"message", "no D-series cores left in centralus"}},
                   {{"code", "SkuNotAvailable"}, {"message", "Standard_NC6s_v3 is retired"}}}}}}};
  EXPECT_EQ(DescribeArmError(body),
            "InvalidTemplateDeployment: The template deployment failed.; QuotaExceeded: no "
            "D-series cores left in centralus; SkuNotAvailable: Standard_NC6s_v3 is retired");
  EXPECT_EQ(DescribeArmError(json()), "no error details");
}

}  // namespace
}  // namespace aic::azure
