#include "kube/exec_plugin.h"

#include <fstream>
#include <sstream>

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "unit/kube/temp_dir.h"

namespace aic::kube {
namespace {

using std::chrono::system_clock;
using ::testing::HasSubstr;
using ::testing::Not;
using testing::TempDir;

std::string ReadFile(const std::string& path) {
  std::ifstream in(path);
  std::stringstream buf;
  buf << in.rdbuf();
  return buf.str();
}

// A plugin that counts its runs in <dir>/runs, saves KUBERNETES_EXEC_INFO and its arguments,
// and prints a token valid until `expiry`.
ExecConfig TokenPlugin(const TempDir& dir, const std::string& expiry) {
  std::string script = "#!/bin/sh\necho run >> \"" + dir.path() + "/runs\"\n" +
                       "printf '%s' \"$KUBERNETES_EXEC_INFO\" > \"" + dir.path() + "/info\"\n" +
                       "echo \"$@ $EXTRA\" > \"" + dir.path() + "/args\"\n" +
                       "cat <<'J'\n{\"apiVersion\": \"client.authentication.k8s.io/v1\", "
                       "\"kind\": \"ExecCredential\", \"status\": {\"token\": \"tok-123\", "
                       "\"expirationTimestamp\": \"" +
                       expiry + "\"}}\nJ\n";
  ExecConfig config;
  config.api_version = "client.authentication.k8s.io/v1";
  config.command = dir.Write("plugin.sh", script, 0755);
  config.args = {"--audience", "aic"};
  config.env = {{"EXTRA", "from-env"}};
  config.provide_cluster_info = true;
  config.source = "kubeconfig /k/cfg: users[0].user.exec";
  return config;
}

TEST(ExecPlugin, RunsCommandAndCachesUntilExpiry) {
  TempDir dir;
  system_clock::time_point now = *ParseRfc3339("2030-01-01T00:00:00Z");
  ClusterEntry cluster;
  cluster.server = "https://10.1.2.3:6443";
  ExecPlugin plugin(TokenPlugin(dir, "2030-01-01T00:10:00Z"), cluster, [&] { return now; });

  auto cred = plugin.Get(Context::WithTimeout(std::chrono::seconds(10)));
  ASSERT_TRUE(cred.ok()) << cred.status().ToString();
  EXPECT_EQ(cred->token, "tok-123");
  EXPECT_EQ(ReadFile(dir.path() + "/args"), "--audience aic from-env\n");
  auto info = nlohmann::json::parse(ReadFile(dir.path() + "/info"));
  EXPECT_EQ(info["kind"], "ExecCredential");
  EXPECT_EQ(info["spec"]["cluster"]["server"], "https://10.1.2.3:6443");
  EXPECT_EQ(info["spec"]["interactive"], false);

  now += std::chrono::minutes(9);
  ASSERT_TRUE(plugin.Get(Context()).ok());
  EXPECT_EQ(plugin.runs(), 1);  // still valid: served from the cache

  now += std::chrono::minutes(2);
  ASSERT_TRUE(plugin.Get(Context()).ok());
  EXPECT_EQ(plugin.runs(), 2);  // expired: the command ran again

  plugin.Invalidate();
  ASSERT_TRUE(plugin.Get(Context()).ok());
  EXPECT_EQ(plugin.runs(), 3);
}

TEST(ExecPlugin, FailingPluginNamesItAndHidesSecrets) {
  TempDir dir;
  ExecConfig config = TokenPlugin(dir, "2030-01-01T00:10:00Z");
  config.command = dir.Write("fail.sh",
                             "#!/bin/sh\necho 'login failed for Bearer sekrit-token-1' >&2\n"
                             "exit 3\n",
                             0755);
  config.install_hint = "install it from example.com";
  ExecPlugin plugin(config, ClusterEntry());
  auto cred = plugin.Get(Context::WithTimeout(std::chrono::seconds(10)));
  ASSERT_FALSE(cred.ok());
  EXPECT_EQ(cred.status().code(), Code::kUnauthenticated);
  const std::string& msg = cred.status().message();
  EXPECT_THAT(msg, HasSubstr("kubeconfig /k/cfg: users[0].user.exec"));
  EXPECT_THAT(msg, HasSubstr("fail.sh\" exited with status 3"));
  EXPECT_THAT(msg, HasSubstr("login failed"));
  EXPECT_THAT(msg, HasSubstr("install it from example.com"));
  EXPECT_THAT(msg, Not(HasSubstr("sekrit-token-1")));
}

TEST(ExecPlugin, MissingCommandIsNamed) {
  TempDir dir;
  ExecConfig config = TokenPlugin(dir, "2030-01-01T00:10:00Z");
  config.command = "/nonexistent/aic-plugin";
  auto cred = ExecPlugin(config, ClusterEntry()).Get(Context());
  ASSERT_FALSE(cred.ok());
  EXPECT_THAT(cred.status().message(), HasSubstr("/nonexistent/aic-plugin"));
}

TEST(ExecPlugin, HungPluginEndsWithTheContext) {
  TempDir dir;
  ExecConfig config = TokenPlugin(dir, "2030-01-01T00:10:00Z");
  config.command = dir.Write("hang.sh", "#!/bin/sh\nexec sleep 60\n", 0755);
  auto start = Clock::now();
  auto cred =
      ExecPlugin(config, ClusterEntry()).Get(Context::WithTimeout(std::chrono::milliseconds(300)));
  ASSERT_FALSE(cred.ok());
  EXPECT_LT(Clock::now() - start, std::chrono::seconds(5));
}

TEST(ExecCredential, ParsesCertificatesAndRejectsBadDocuments) {
  std::string v1 = "client.authentication.k8s.io/v1";
  auto cred = ParseExecCredential(
      R"({"apiVersion":"client.authentication.k8s.io/v1","kind":"ExecCredential",
          "status":{"clientCertificateData":"CERT","clientKeyData":"KEY"}})",
      v1, "plugin");
  ASSERT_TRUE(cred.ok()) << cred.status().ToString();
  EXPECT_EQ(cred->client_cert_pem, "CERT");
  EXPECT_FALSE(cred->expiry.has_value());

  auto bad = ParseExecCredential("token=abc", v1, "plugin p");
  ASSERT_FALSE(bad.ok());
  EXPECT_THAT(bad.status().message(), HasSubstr("plugin p: the plugin did not print"));
  EXPECT_THAT(bad.status().message(), Not(HasSubstr("abc")));

  bad = ParseExecCredential(
      R"({"apiVersion":"client.authentication.k8s.io/v1beta1","kind":"ExecCredential",
          "status":{"token":"t"}})",
      v1, "p");
  EXPECT_THAT(bad.status().message(), HasSubstr("apiVersion"));
  bad = ParseExecCredential(
      R"({"apiVersion":"client.authentication.k8s.io/v1","kind":"ExecCredential","status":{}})", v1,
      "p");
  EXPECT_THAT(bad.status().message(), HasSubstr("neither token nor clientCertificateData"));
}

TEST(Rfc3339, ParsesOffsetsAndFractions) {
  auto utc = ParseRfc3339("2024-03-01T12:00:00Z");
  ASSERT_TRUE(utc.has_value());
  EXPECT_EQ(system_clock::to_time_t(*utc), 1709294400);
  EXPECT_EQ(*ParseRfc3339("2024-03-01T13:30:00.123+01:30"), *utc);
  EXPECT_FALSE(ParseRfc3339("yesterday").has_value());
}

}  // namespace
}  // namespace aic::kube
