// Exec-plugin and ServiceAccount-token authentication, bound by RBAC.
#include <fstream>
#include <thread>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "integration/kube/cluster.h"

namespace aic::kube {
namespace {

using namespace std::chrono_literals;
using testing::AdminClient;
using testing::Deadline;
using testing::TestNamespace;

// Issues a token for a new ServiceAccount `name` in `ns` through the TokenRequest API.
std::string IssueToken(Client& admin, const std::string& ns, const std::string& name) {
  auto sas = *admin.Resource(Deadline(), "serviceaccounts");
  EXPECT_TRUE(admin.Create(Deadline(), sas, ns, {{"metadata", {{"name", name}}}}).ok());
  json request = {{"apiVersion", "authentication.k8s.io/v1"},
                  {"kind", "TokenRequest"},
                  {"spec", {{"expirationSeconds", 600}}}};
  auto issued = admin.CreateSubresource(Deadline(), sas, ns, name, "token", request);
  EXPECT_TRUE(issued.ok()) << issued.status().ToString();
  return issued.ok() ? (*issued)["status"].value("token", "") : "";
}

// Grants `sa` list on configmaps in `ns`.
void GrantList(Client& admin, const std::string& ns, const std::string& sa) {
  json role = {
      {"apiVersion", "rbac.authorization.k8s.io/v1"},
      {"kind", "Role"},
      {"metadata", {{"name", "cm-reader"}}},
      {"rules",
       json::array(
           {{{"apiGroups", {""}}, {"resources", {"configmaps"}}, {"verbs", {"get", "list"}}}})}};
  json binding = {
      {"apiVersion", "rbac.authorization.k8s.io/v1"},
      {"kind", "RoleBinding"},
      {"metadata", {{"name", "cm-reader"}}},
      {"roleRef",
       {{"apiGroup", "rbac.authorization.k8s.io"}, {"kind", "Role"}, {"name", "cm-reader"}}},
      {"subjects", json::array({{{"kind", "ServiceAccount"}, {"name", sa}, {"namespace", ns}}})}};
  for (const json& obj : {role, binding}) {
    auto res = admin.ResourceFor(Deadline(), obj);
    ASSERT_TRUE(res.ok()) << res.status().ToString();
    ASSERT_TRUE(admin.Apply(Deadline(), *res, ns, obj, "aic-test").ok());
  }
}

// Lists configmaps until allowed (RBAC changes take a moment to apply) or 10 s pass.
Status ListUntilAllowed(Client& client, const std::string& ns) {
  auto cms = client.Resource(Deadline(), "configmaps");
  if (!cms.ok()) return cms.status();
  Status last;
  for (int i = 0; i < 50; ++i) {
    last = client.List(Deadline(), *cms, ns).status();
    if (last.code() != Code::kPermissionDenied) return last;
    std::this_thread::sleep_for(200ms);
  }
  return last;
}

// A kubeconfig next to the admin one whose user runs `plugin` for its credential.
std::string ExecKubeconfig(const std::string& dir, const std::string& plugin) {
  auto admin = Kubeconfig::LoadFile(testing::Kubeconfig());
  auto rc = admin->Resolve();
  std::ofstream(dir + "/ca.crt") << rc->tls.ca_pem;
  std::string path = dir + "/kubeconfig";
  std::ofstream(path) << "apiVersion: v1\nkind: Config\ncurrent-context: sa\n"
                      << "clusters:\n- name: c\n  cluster:\n    server: " << rc->server
                      << "\n    certificate-authority: ca.crt\n"
                      << "users:\n- name: sa\n  user:\n    exec:\n"
                      << "      apiVersion: client.authentication.k8s.io/v1\n"
                      << "      command: ./" << plugin << "\n      provideClusterInfo: true\n"
                      << "contexts:\n- name: sa\n  context: {cluster: c, user: sa}\n";
  return path;
}

TEST(KubeAuth, ExecPluginTokenIsBoundByRbac) {
  auto admin = AdminClient();
  TestNamespace ns(*admin, "aic-auth");
  std::string token = IssueToken(*admin, ns.name(), "robot");
  ASSERT_FALSE(token.empty());

  std::string dir = aic::testing::MakeTempDir("aic-kube-auth-");
  std::string plugin = dir + "/plugin.sh";
  std::ofstream(plugin) << "#!/bin/sh\ncat <<'J'\n{\"apiVersion\":"
                        << "\"client.authentication.k8s.io/v1\",\"kind\":\"ExecCredential\","
                        << "\"status\":{\"token\":\"" << token << "\"}}\nJ\n";
  std::filesystem::permissions(plugin, std::filesystem::perms::owner_all);
  auto robot = Client::FromKubeconfig(ExecKubeconfig(dir, "plugin.sh"));
  ASSERT_TRUE(robot.ok()) << robot.status().ToString();

  Status denied =
      (*robot)
          ->List(Deadline(), ResourceInfo{"", "v1", "configmaps", "ConfigMap", true}, ns.name())
          .status();
  EXPECT_EQ(denied.code(), Code::kPermissionDenied) << denied.ToString();
  EXPECT_EQ(denied.http_status(), 403);
  EXPECT_EQ(denied.message().find(token), std::string::npos);

  GrantList(*admin, ns.name(), "robot");
  Status allowed = ListUntilAllowed(**robot, ns.name());
  EXPECT_TRUE(allowed.ok()) << allowed.ToString();
  std::filesystem::remove_all(dir);
}

TEST(KubeAuth, ServiceAccountTokenFromTokenFile) {
  auto admin = AdminClient();
  TestNamespace ns(*admin, "aic-token");
  std::string token = IssueToken(*admin, ns.name(), "bot");
  ASSERT_FALSE(token.empty());
  std::string dir = aic::testing::MakeTempDir("aic-kube-token-");
  std::ofstream(dir + "/token") << token << "\n";

  RestConfig rc = *Kubeconfig::LoadFile(testing::Kubeconfig())->Resolve();
  rc.tls.client_cert_pem.clear();
  rc.tls.client_key_pem.clear();
  rc.exec.reset();
  rc.token.clear();
  rc.token_file = dir + "/token";
  auto bot = std::move(Client::Create(rc)).value();
  auto cms = ResourceInfo{"", "v1", "configmaps", "ConfigMap", true};
  EXPECT_EQ(bot->List(Deadline(), cms, ns.name()).status().code(), Code::kPermissionDenied);
  GrantList(*admin, ns.name(), "bot");
  Status allowed = ListUntilAllowed(*bot, ns.name());
  EXPECT_TRUE(allowed.ok()) << allowed.ToString();

  rc.token_file.clear();
  rc.token = "not-a-valid-token";
  auto stranger = std::move(Client::Create(rc)).value();
  Status unknown = stranger->List(Deadline(), cms, ns.name()).status();
  EXPECT_EQ(unknown.code(), Code::kUnauthenticated) << unknown.ToString();
  EXPECT_EQ(unknown.message().find("not-a-valid-token"), std::string::npos);
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace aic::kube
