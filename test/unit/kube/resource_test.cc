#include "kube/resource.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace aic::kube {
namespace {

using ::testing::HasSubstr;

const ResourceInfo kConfigMaps{"", "v1", "configmaps", "ConfigMap", true};
const ResourceInfo kDeployments{"apps", "v1", "deployments", "Deployment", true};
const ResourceInfo kNodes{"", "v1", "nodes", "Node", false};

TEST(ResourceInfo, Paths) {
  EXPECT_EQ(kConfigMaps.Path("ns"), "/api/v1/namespaces/ns/configmaps");
  EXPECT_EQ(kConfigMaps.Path(""), "/api/v1/configmaps");
  EXPECT_EQ(kDeployments.Path("a", "web", "status"),
            "/apis/apps/v1/namespaces/a/deployments/web/status");
  EXPECT_EQ(kNodes.Path("ignored", "n1"), "/api/v1/nodes/n1");
}

TEST(Query, ListEncodesSelectorsAndPaging) {
  ListOptions o;
  EXPECT_EQ(ListQuery(o), "");
  o.label_selector = "app=web,tier in (a,b)";
  o.field_selector = "metadata.name!=x";
  o.limit = 500;
  o.continue_token = "eyJ2Ijoi+/=";
  EXPECT_EQ(ListQuery(o),
            "?labelSelector=app%3Dweb%2Ctier%20in%20%28a%2Cb%29"
            "&fieldSelector=metadata.name%21%3Dx&limit=500&continue=eyJ2Ijoi%2B%2F%3D");
  ListOptions rv;
  rv.resource_version = "42";
  rv.resource_version_match = "NotOlderThan";
  EXPECT_EQ(ListQuery(rv), "?resourceVersion=42&resourceVersionMatch=NotOlderThan");
}

TEST(Query, WatchFromVersionWithBookmarks) {
  WatchOptions o;
  o.resource_version = "1234";
  o.timeout_seconds = 60;
  EXPECT_EQ(WatchQuery(o),
            "?watch=1&resourceVersion=1234&allowWatchBookmarks=true&timeoutSeconds=60");
  o = WatchOptions();
  o.allow_bookmarks = false;
  EXPECT_EQ(WatchQuery(o), "?watch=1");
}

TEST(Patch, ContentTypesAndQueries) {
  EXPECT_STREQ(PatchContentType(PatchType::kMerge), "application/merge-patch+json");
  EXPECT_STREQ(PatchContentType(PatchType::kJson), "application/json-patch+json");
  EXPECT_STREQ(PatchContentType(PatchType::kStrategicMerge),
               "application/strategic-merge-patch+json");
  EXPECT_STREQ(PatchContentType(PatchType::kApply), "application/apply-patch+yaml");

  EXPECT_EQ(*PatchQuery(PatchType::kApply, {"aiconform", true, false}),
            "?fieldManager=aiconform&force=true");
  EXPECT_EQ(*PatchQuery(PatchType::kMerge, {"", false, true}), "?dryRun=All");
  EXPECT_FALSE(PatchQuery(PatchType::kApply, {}).ok());
  EXPECT_FALSE(PatchQuery(PatchType::kMerge, {"m", true, false}).ok());
}

TEST(Apply, BodyFillsTypeAndDropsManagedFields) {
  json obj = {{"metadata", {{"name", "web"}, {"managedFields", json::array({{"x", 1}})}}},
              {"spec", {{"replicas", 2}}}};
  auto body = ApplyBody(kDeployments, obj);
  ASSERT_TRUE(body.ok()) << body.status().ToString();
  json sent = json::parse(*body);
  EXPECT_EQ(sent["apiVersion"], "apps/v1");
  EXPECT_EQ(sent["kind"], "Deployment");
  EXPECT_FALSE(sent["metadata"].contains("managedFields"));
  EXPECT_EQ(sent["spec"]["replicas"], 2);
}

TEST(Apply, BodyRejectsMismatchesAndMissingName) {
  auto wrong_kind = ApplyBody(kDeployments, {{"kind", "Pod"}, {"metadata", {{"name", "x"}}}});
  ASSERT_FALSE(wrong_kind.ok());
  EXPECT_THAT(wrong_kind.status().message(), HasSubstr("kind \"Pod\""));
  EXPECT_FALSE(ApplyBody(kDeployments, {{"apiVersion", "apps/v2"}}).ok());
  auto unnamed = ApplyBody(kConfigMaps, {{"data", {{"a", "b"}}}});
  ASSERT_FALSE(unnamed.ok());
  EXPECT_THAT(unnamed.status().message(), HasSubstr("metadata.name"));
}

TEST(Delete, BodyCarriesPolicyAndPreconditions) {
  DeleteOptions o;
  o.propagation_policy = "Foreground";
  o.precondition_uid = "u-1";
  o.precondition_resource_version = "9";
  o.grace_period_seconds = 0;
  json body = DeleteBody(o);
  EXPECT_EQ(body["kind"], "DeleteOptions");
  EXPECT_EQ(body["propagationPolicy"], "Foreground");
  EXPECT_EQ(body["preconditions"]["uid"], "u-1");
  EXPECT_EQ(body["preconditions"]["resourceVersion"], "9");
  EXPECT_EQ(body["gracePeriodSeconds"], 0);
  EXPECT_FALSE(DeleteBody({}).contains("preconditions"));
}

TEST(GroupVersionKind, FromObject) {
  auto gvk = GroupVersionKind::FromObject({{"apiVersion", "apps/v1"}, {"kind", "Deployment"}});
  ASSERT_TRUE(gvk.ok());
  EXPECT_EQ(gvk->group, "apps");
  EXPECT_EQ(gvk->ApiVersion(), "apps/v1");
  EXPECT_EQ(GroupVersionKind::FromObject({{"apiVersion", "v1"}, {"kind", "Pod"}})->group, "");
  EXPECT_FALSE(GroupVersionKind::FromObject({{"kind", "Pod"}}).ok());
}

}  // namespace
}  // namespace aic::kube
