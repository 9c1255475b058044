// CRUD, patch, server-side apply, pagination and error mapping against a real API server.
#include <atomic>
#include <functional>
#include <thread>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "integration/kube/cluster.h"

namespace aic::kube {
namespace {

using testing::AdminClient;
using testing::Deadline;
using ::testing::HasSubstr;
using testing::TestNamespace;

json ConfigMap(const std::string& name, json data = json::object()) {
  return {{"apiVersion", "v1"},
          {"kind", "ConfigMap"},
          {"metadata", {{"name", name}}},
          {"data", std::move(data)}};
}

TEST(KubeCrud, CoreResourceLifecycle) {
  auto client = AdminClient();
  TestNamespace ns(*client, "aic-crud");
  auto cms = client->Resource(Deadline(), "cm");
  ASSERT_TRUE(cms.ok()) << cms.status().ToString();
  EXPECT_TRUE(cms->namespaced);

  auto made = client->Create(Deadline(), *cms, ns.name(), ConfigMap("a", {{"k", "1"}}));
  ASSERT_TRUE(made.ok()) << made.status().ToString();
  json obj = *made;
  obj["data"]["k"] = "2";
  auto updated = client->Update(Deadline(), *cms, ns.name(), obj);
  ASSERT_TRUE(updated.ok()) << updated.status().ToString();

  auto merged =
      client->Patch(Deadline(), *cms, ns.name(), "a", PatchType::kMerge, {{"data", {{"m", "3"}}}});
  ASSERT_TRUE(merged.ok()) << merged.status().ToString();
  auto patched =
      client->Patch(Deadline(), *cms, ns.name(), "a", PatchType::kJson,
                    json::array({{{"op", "replace"}, {"path", "/data/k"}, {"value", "4"}}}));
  ASSERT_TRUE(patched.ok()) << patched.status().ToString();
  auto strategic = client->Patch(Deadline(), *cms, ns.name(), "a", PatchType::kStrategicMerge,
                                 {{"metadata", {{"labels", {{"l", "v"}}}}}});
  ASSERT_TRUE(strategic.ok()) << strategic.status().ToString();

  auto got = client->Get(Deadline(), *cms, ns.name(), "a");
  ASSERT_TRUE(got.ok()) << got.status().ToString();
  EXPECT_EQ((*got)["data"], json({{"k", "4"}, {"m", "3"}}));
  EXPECT_EQ((*got)["metadata"]["labels"]["l"], "v");

  DeleteOptions o;
  o.precondition_uid = (*got)["metadata"]["uid"];
  ASSERT_TRUE(client->Delete(Deadline(), *cms, ns.name(), "a", o).ok());
  EXPECT_EQ(client->Get(Deadline(), *cms, ns.name(), "a").status().code(), Code::kNotFound);
}

TEST(KubeCrud, CustomResourceLifecycle) {
  auto client = AdminClient();
  TestNamespace ns(*client, "aic-crd");
  json crd = json::parse(R"({
    "apiVersion": "apiextensions.k8s.io/v1", "kind": "CustomResourceDefinition",
    "metadata": {"name": "widgets.test.aiconform.dev"},
    "spec": {"group": "test.aiconform.dev", "scope": "Namespaced",
      "names": {"plural": "widgets", "singular": "widget", "kind": "Widget"},
      "versions": [{"name": "v1", "served": true, "storage": true,
        "schema": {"openAPIV3Schema": {"type": "object", "properties": {
          "spec": {"type": "object", "properties": {"size": {"type": "integer"}}}}}}}]}})");
  auto crds = client->ResourceFor(Deadline(), crd);
  ASSERT_TRUE(crds.ok()) << crds.status().ToString();
  ASSERT_TRUE(client->Apply(Deadline(), *crds, "", crd, "aic-test").ok());

  // The new kind appears in discovery a moment after the CRD is established.
  json widget = {{"apiVersion", "test.aiconform.dev/v1"},
                 {"kind", "Widget"},
                 {"metadata", {{"name", "w1"}}},
                 {"spec", {{"size", 3}}}};
  Result<ResourceInfo> widgets = Status(Code::kNotFound, "not yet");
  for (int i = 0; i < 50 && !widgets.ok(); ++i) {
    widgets = client->ResourceFor(Deadline(), widget);
    if (!widgets.ok()) std::this_thread::sleep_for(std::chrono::milliseconds(200));
  }
  ASSERT_TRUE(widgets.ok()) << widgets.status().ToString();
  EXPECT_EQ(widgets->resource, "widgets");
  EXPECT_TRUE(client->Resource(Deadline(), "widgets.test.aiconform.dev").ok());

  Result<json> made = Status(Code::kNotFound, "not yet");
  for (int i = 0; i < 50 && !made.ok(); ++i) {  // until the API serves the new kind
    made = client->Create(Deadline(), *widgets, ns.name(), widget);
    if (!made.ok()) std::this_thread::sleep_for(std::chrono::milliseconds(200));
  }
  ASSERT_TRUE(made.ok()) << made.status().ToString();
  auto patched = client->Patch(Deadline(), *widgets, ns.name(), "w1", PatchType::kMerge,
                               {{"spec", {{"size", 5}}}});
  ASSERT_TRUE(patched.ok()) << patched.status().ToString();
  EXPECT_EQ((*patched)["spec"]["size"], 5);
  // Strategic merge is for built-in types only; the server says so with 415.
  EXPECT_FALSE(client
                   ->Patch(Deadline(), *widgets, ns.name(), "w1", PatchType::kStrategicMerge,
                           {{"spec", {{"size", 6}}}})
                   .ok());
  auto listed = client->List(Deadline(), *widgets, ns.name());
  ASSERT_TRUE(listed.ok());
  EXPECT_EQ((*listed)["items"].size(), 1u);
  ASSERT_TRUE(client->Delete(Deadline(), *widgets, ns.name(), "w1").ok());
  DeleteOptions background;
  background.propagation_policy = "Background";
  ASSERT_TRUE(client->Delete(Deadline(), *crds, "", "widgets.test.aiconform.dev", background).ok());
}

TEST(KubeApply, ConflictsBetweenManagersAndForce) {
  auto client = AdminClient();
  TestNamespace ns(*client, "aic-apply");
  auto cms = *client->Resource(Deadline(), "configmaps");
  auto first =
      client->Apply(Deadline(), cms, ns.name(), ConfigMap("shared", {{"owner", "a"}}), "manager-a");
  ASSERT_TRUE(first.ok()) << first.status().ToString();

  auto clash =
      client->Apply(Deadline(), cms, ns.name(), ConfigMap("shared", {{"owner", "b"}}), "manager-b");
  ASSERT_FALSE(clash.ok());
  EXPECT_EQ(clash.status().code(), Code::kConflict);
  EXPECT_EQ(clash.status().http_status(), 409);
  EXPECT_THAT(clash.status().message(), HasSubstr("manager-a"));

  auto forced = client->Apply(Deadline(), cms, ns.name(), ConfigMap("shared", {{"owner", "b"}}),
                              "manager-b", /*force=*/true);
  ASSERT_TRUE(forced.ok()) << forced.status().ToString();
  EXPECT_EQ((*forced)["data"]["owner"], "b");

  // Re-applying the same intent is a no-op, not a conflict.
  EXPECT_TRUE(
      client->Apply(Deadline(), cms, ns.name(), ConfigMap("shared", {{"owner", "b"}}), "manager-b")
          .ok());
}

TEST(KubeList, PaginatesOverTwoThousandConfigMaps) {
  auto client = AdminClient();
  TestNamespace ns(*client, "aic-page");
  auto cms = *client->Resource(Deadline(), "configmaps");
  constexpr int kCount = 2000;
  std::atomic<int> next{0}, failed{0};
  std::vector<std::thread> workers;
  for (int w = 0; w < 4; ++w) {
    workers.emplace_back([&] {
      for (int i; (i = next++) < kCount;) {
        json cm = ConfigMap(fmt::format("cm-{:04}", i), {{"i", std::to_string(i)}});
        cm["metadata"]["labels"] = {{"parity", i % 2 ? "odd" : "even"}};
        if (!client->Create(Deadline(60), cms, ns.name(), cm).ok()) ++failed;
      }
    });
  }
  for (auto& w : workers)
    w.join();
  ASSERT_EQ(failed.load(), 0);

  ListOptions page;  // the selector leaves out kube-root-ca.crt, which every namespace has
  page.label_selector = "parity";
  page.limit = 300;
  auto first = client->List(Deadline(), cms, ns.name(), page);
  ASSERT_TRUE(first.ok()) << first.status().ToString();
  EXPECT_EQ((*first)["items"].size(), 300u);
  EXPECT_FALSE((*first)["metadata"].value("continue", "").empty());

  auto all = client->ListAll(Deadline(60), cms, ns.name(), page);
  ASSERT_TRUE(all.ok()) << all.status().ToString();
  ASSERT_EQ((*all)["items"].size(), static_cast<size_t>(kCount));
  std::set<std::string> names;
  for (const auto& item : (*all)["items"])
    names.insert(item["metadata"]["name"]);
  EXPECT_EQ(names.size(), static_cast<size_t>(kCount));

  ListOptions odd;
  odd.label_selector = "parity=odd";
  odd.field_selector = "metadata.name!=cm-0001";
  odd.limit = 250;
  auto odds = client->ListAll(Deadline(60), cms, ns.name(), odd);
  ASSERT_TRUE(odds.ok()) << odds.status().ToString();
  EXPECT_EQ((*odds)["items"].size(), static_cast<size_t>(kCount / 2 - 1));
}

TEST(KubeErrors, NotFoundConflictAndInvalidAreMapped) {
  auto client = AdminClient();
  TestNamespace ns(*client, "aic-errors");
  auto cms = *client->Resource(Deadline(), "configmaps");

  auto missing = client->Get(Deadline(), cms, ns.name(), "nope");
  EXPECT_EQ(missing.status().code(), Code::kNotFound);
  EXPECT_EQ(missing.status().reason(), "NotFound");

  auto made = client->Create(Deadline(), cms, ns.name(), ConfigMap("dup"));
  ASSERT_TRUE(made.ok());
  auto again = client->Create(Deadline(), cms, ns.name(), ConfigMap("dup"));
  EXPECT_EQ(again.status().code(), Code::kAlreadyExists);
  EXPECT_EQ(again.status().http_status(), 409);

  json stale = *made;
  stale["data"] = {{"x", "1"}};
  ASSERT_TRUE(client->Update(Deadline(), cms, ns.name(), stale).ok());
  auto conflict = client->Update(Deadline(), cms, ns.name(), stale);  // old resourceVersion
  EXPECT_EQ(conflict.status().code(), Code::kConflict);
  EXPECT_EQ(conflict.status().reason(), "Conflict");

  auto invalid = client->Create(Deadline(), cms, ns.name(), ConfigMap("Not_A_Valid_Name"));
  EXPECT_EQ(invalid.status().code(), Code::kUnprocessable);
  EXPECT_EQ(invalid.status().http_status(), 422);
  EXPECT_THAT(invalid.status().message(), HasSubstr("Not_A_Valid_Name"));

  DeleteOptions wrong_uid;
  wrong_uid.precondition_uid = "00000000-0000-0000-0000-000000000000";
  EXPECT_EQ(client->Delete(Deadline(), cms, ns.name(), "dup", wrong_uid).status().code(),
            Code::kConflict);
}

TEST(KubeTransport, ReusesOneConnection) {
  auto client = AdminClient();
  auto ns = *client->Resource(Deadline(), "namespaces");
  for (int i = 0; i < 20; ++i)
    ASSERT_TRUE(client->Get(Deadline(), ns, "", "default").ok());
  EXPECT_EQ(client->connections_opened(), 1);
}

// The apiserver offers HTTP/2 through ALPN; the client takes it unless told not to.
TEST(KubeTransport, SpeaksHttp2WithTheApiserverAndHttp1WhenAsked) {
  auto client = AdminClient();
  ASSERT_TRUE(client->Raw(Deadline(), "GET", "/version").ok());
  EXPECT_EQ(client->last_protocol(), "HTTP/2");

  ClientOptions http1;
  http1.http2 = false;
  auto old = Client::FromKubeconfig(testing::Kubeconfig(), "", http1);
  ASSERT_TRUE(old.ok()) << old.status().ToString();
  ASSERT_TRUE((*old)->Raw(Deadline(), "GET", "/version").ok());
  EXPECT_EQ((*old)->last_protocol(), "HTTP/1.1");
}

// A context whose cluster settings are the admin one's, changed by `edit`.
std::unique_ptr<Client> ClientWith(const std::function<void(RestConfig&)>& edit) {
  auto kc = Kubeconfig::LoadFile(testing::Kubeconfig());
  EXPECT_TRUE(kc.ok()) << kc.status().ToString();
  auto rc = kc->Resolve();
  EXPECT_TRUE(rc.ok()) << rc.status().ToString();
  edit(*rc);
  auto client = Client::Create(*rc);
  EXPECT_TRUE(client.ok()) << client.status().ToString();
  return std::move(client).value();
}

TEST(KubeTransport, TlsServerNameVerifiesAgainstANameInTheCertificate) {
  auto client = ClientWith([](RestConfig& rc) { rc.tls.server_name = "kubernetes.default.svc"; });
  auto got = client->Raw(Deadline(), "GET", "/version");
  EXPECT_TRUE(got.ok()) << got.status().ToString();
}

TEST(KubeTransport, InsecureSkipTlsVerifyConnectsWithoutTheClusterCa) {
  auto untrusted = ClientWith([](RestConfig& rc) { rc.tls.ca_pem.clear(); });
  auto refused = untrusted->Raw(Deadline(5), "GET", "/version");
  ASSERT_FALSE(refused.ok());  // the system roots do not know the cluster's CA
  EXPECT_THAT(refused.status().message(), HasSubstr("TLS verification of"));
  EXPECT_THAT(refused.status().message(), HasSubstr(http::HostOf(untrusted->server())));

  auto insecure = ClientWith([](RestConfig& rc) {
    rc.tls.ca_pem.clear();
    rc.tls.insecure_skip_verify = true;
  });
  auto got = insecure->Raw(Deadline(), "GET", "/version");
  EXPECT_TRUE(got.ok()) << got.status().ToString();
}

TEST(KubeTransport, CertificateMismatchNamesHost) {
  auto kc = Kubeconfig::LoadFile(testing::Kubeconfig());
  ASSERT_TRUE(kc.ok());
  auto rc = kc->Resolve();
  ASSERT_TRUE(rc.ok());
  rc->tls.server_name = "not-the-apiserver.example";
  auto client = std::move(Client::Create(*rc)).value();
  auto start = Clock::now();
  auto got = client->Raw(Deadline(5), "GET", "/version");
  EXPECT_LT(Clock::now() - start, std::chrono::seconds(2));  // not retried: it cannot heal
  ASSERT_FALSE(got.ok());
  EXPECT_THAT(got.status().message(), HasSubstr("not-the-apiserver.example"));
  EXPECT_THAT(got.status().message(), HasSubstr("TLS"));
}

}  // namespace
}  // namespace aic::kube
