#include "kube/kubeconfig.h"

#include <cstdlib>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "unit/kube/temp_dir.h"

namespace aic::kube {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;
using testing::TempDir;

const char kCaPem[] = "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n";
const char kCertPem[] = "-----BEGIN CERTIFICATE-----\nMIIC\n-----END CERTIFICATE-----\n";
const char kKeyPem[] = "-----BEGIN EC PRIVATE KEY-----\nMHc\n-----END EC PRIVATE KEY-----\n";

std::string Config(const std::string& current, const std::string& body) {
  return "apiVersion: v1\nkind: Config\ncurrent-context: " + current + "\n" + body;
}

TEST(Kubeconfig, ResolvesCurrentContextWithRelativePaths) {
  TempDir dir;
  dir.Write("pki/ca.crt", kCaPem);
  dir.Write("pki/admin.crt", kCertPem);
  dir.Write("pki/admin.key", kKeyPem);
  std::string path = dir.Write("config", Config("dev", R"(
clusters:
- name: c1
  cluster:
    server: https://10.0.0.1:6443/
    certificate-authority: pki/ca.crt
    tls-server-name: kubernetes
    proxy-url: socks5://127.0.0.1:1080
users:
- name: admin
  user:
    client-certificate: pki/admin.crt
    client-key: pki/admin.key
contexts:
- name: dev
  context: {cluster: c1, user: admin, namespace: team}
)"));
  auto kc = Kubeconfig::LoadFile(path);
  ASSERT_TRUE(kc.ok()) << kc.status().ToString();
  auto rc = kc->Resolve();
  ASSERT_TRUE(rc.ok()) << rc.status().ToString();
  EXPECT_EQ(rc->server, "https://10.0.0.1:6443");
  EXPECT_EQ(rc->ns, "team");
  EXPECT_EQ(rc->tls.ca_pem, kCaPem);
  EXPECT_EQ(rc->tls.server_name, "kubernetes");
  EXPECT_EQ(rc->proxy, "socks5://127.0.0.1:1080");
  EXPECT_EQ(rc->tls.client_cert_pem, kCertPem);
  EXPECT_EQ(rc->tls.client_key_pem, kKeyPem);
  EXPECT_EQ(kc->users().at("admin").client_key, dir.path() + "/pki/admin.key");
}

TEST(Kubeconfig, DecodesInlineDataAndToken) {
  std::string text = Config("x",
                            "clusters:\n- name: c\n  cluster:\n    server: https://h\n"
                            "    certificate-authority-data: " +
                                EncodeBase64(kCaPem) +
                                "\n    insecure-skip-tls-verify: false\n"
                                "users:\n- name: u\n  user:\n    token: abc.def\n"
                                "contexts:\n- name: x\n  context: {cluster: c, user: u}\n");
  auto kc = Kubeconfig::Parse(text, "/k/config");
  ASSERT_TRUE(kc.ok()) << kc.status().ToString();
  auto rc = kc->Resolve();
  ASSERT_TRUE(rc.ok()) << rc.status().ToString();
  EXPECT_EQ(rc->tls.ca_pem, kCaPem);
  EXPECT_FALSE(rc->tls.insecure_skip_verify);
  EXPECT_EQ(rc->token, "abc.def");
  EXPECT_EQ(rc->ns, "default");
}

TEST(Kubeconfig, MergesFilesFirstDefinitionWins) {
  TempDir dir;
  std::string a = dir.Write("a", R"(
clusters:
- name: shared
  cluster: {server: https://from-a}
users:
- name: u
  user: {token: ta}
contexts:
- name: ctx-a
  context: {cluster: shared, user: u}
)");
  std::string b = dir.Write("b", Config("ctx-b", R"(
clusters:
- name: shared
  cluster: {server: https://from-b}
- name: only-b
  cluster: {server: https://only-b}
contexts:
- name: ctx-b
  context: {cluster: only-b, user: u}
)"));
  std::string c = dir.Write("c", Config("ctx-a", ""));
  auto kc = Kubeconfig::LoadMerged({a, dir.path() + "/missing", b, c, a});
  ASSERT_TRUE(kc.ok()) << kc.status().ToString();
  EXPECT_EQ(kc->current_context(), "ctx-b");  // a sets none; b is the first that does
  EXPECT_EQ(kc->clusters().at("shared").server, "https://from-a");
  EXPECT_EQ(kc->files().size(), 3u);
  auto rc = kc->Resolve();
  ASSERT_TRUE(rc.ok()) << rc.status().ToString();
  EXPECT_EQ(rc->server, "https://only-b");
  EXPECT_EQ(rc->token, "ta");
}

TEST(Kubeconfig, KubeconfigVariableListsFiles) {
  TempDir dir;
  std::string a = dir.Write("a", Config("x", ""));
  std::string b = dir.Write("b",
                            "clusters:\n- name: c\n  cluster: {server: https://b}\n"
                            "contexts:\n- name: x\n  context: {cluster: c}\n");
  setenv("KUBECONFIG", (a + "::" + b).c_str(), 1);
  auto kc = Kubeconfig::LoadDefault();
  unsetenv("KUBECONFIG");
  ASSERT_TRUE(kc.ok()) << kc.status().ToString();
  auto rc = kc->Resolve();
  ASSERT_TRUE(rc.ok()) << rc.status().ToString();
  EXPECT_EQ(rc->server, "https://b");
  EXPECT_EQ(SplitKubeconfigPath("a::b:"), (std::vector<std::string>{"a", "b"}));
}

TEST(Kubeconfig, MalformedYamlNamesFileAndLine) {
  auto kc = Kubeconfig::Parse("clusters:\n- name: [unclosed\n", "/etc/kube/bad");
  ASSERT_FALSE(kc.ok());
  EXPECT_EQ(kc.status().code(), Code::kInvalidArgument);
  EXPECT_THAT(kc.status().message(), HasSubstr("/etc/kube/bad"));
  EXPECT_THAT(kc.status().message(), HasSubstr("line"));
}

TEST(Kubeconfig, WrongShapeNamesField) {
  auto kc = Kubeconfig::Parse("clusters:\n- name: c\n  cluster:\n    server: [1, 2]\n", "/k/cfg");
  ASSERT_FALSE(kc.ok());
  EXPECT_THAT(kc.status().message(), HasSubstr("kubeconfig /k/cfg: clusters[0].cluster.server"));

  kc = Kubeconfig::Parse("users: {}\n", "/k/cfg");
  ASSERT_FALSE(kc.ok());
  EXPECT_THAT(kc.status().message(), HasSubstr("users: expected a list"));

  kc = Kubeconfig::Parse("contexts:\n- context: {cluster: c}\n", "/k/cfg");
  ASSERT_FALSE(kc.ok());
  EXPECT_THAT(kc.status().message(), HasSubstr("contexts[0].name: missing"));

  kc = Kubeconfig::Parse("clusters:\n- name: c\n  cluster: {insecure-skip-tls-verify: maybe}\n",
                         "/k/cfg");
  ASSERT_FALSE(kc.ok());
  EXPECT_THAT(kc.status().message(), HasSubstr("insecure-skip-tls-verify: expected true or false"));
}

TEST(Kubeconfig, BadBase64IsNamedButNotQuoted) {
  auto kc = Kubeconfig::Parse(
      "users:\n- name: u\n  user: {client-key-data: 'c2VjcmV0!!notbase64'}\n", "/k/cfg");
  ASSERT_FALSE(kc.ok());
  EXPECT_THAT(kc.status().message(), HasSubstr("users[0].user.client-key-data: not valid base64"));
  EXPECT_THAT(kc.status().message(), Not(HasSubstr("c2VjcmV0")));
}

TEST(Kubeconfig, MissingFileIsNamed) {
  auto kc = Kubeconfig::LoadFile("/nonexistent/kubeconfig");
  ASSERT_FALSE(kc.ok());
  EXPECT_THAT(kc.status().message(), HasSubstr("/nonexistent/kubeconfig does not exist"));
  auto merged = Kubeconfig::LoadMerged({"/nope/a", "/nope/b"});
  ASSERT_FALSE(merged.ok());
  EXPECT_THAT(merged.status().message(), HasSubstr("/nope/a:/nope/b"));
}

TEST(Kubeconfig, UnknownContextListsKnownOnes) {
  auto kc = Kubeconfig::Parse(Config("gone", "contexts:\n- name: a\n  context: {cluster: c}\n"),
                              "/k/cfg");
  ASSERT_TRUE(kc.ok());
  auto rc = kc->Resolve();
  ASSERT_FALSE(rc.ok());
  EXPECT_THAT(rc.status().message(), HasSubstr("context \"gone\" not found (known: a)"));
  rc = kc->Resolve("a");
  ASSERT_FALSE(rc.ok());
  EXPECT_THAT(rc.status().message(), HasSubstr("names cluster \"c\", which is not defined"));
}

TEST(Kubeconfig, MissingCertificateFileNamesFileAndUser) {
  auto kc = Kubeconfig::Parse(Config("x", R"(
clusters:
- name: c
  cluster: {server: https://h}
users:
- name: u
  user: {client-certificate: /no/such.crt, client-key: /no/such.key}
contexts:
- name: x
  context: {cluster: c, user: u}
)"),
                              "/k/cfg");
  ASSERT_TRUE(kc.ok());
  auto rc = kc->Resolve();
  ASSERT_FALSE(rc.ok());
  EXPECT_THAT(rc.status().message(), HasSubstr("/k/cfg"));
  EXPECT_THAT(rc.status().message(), HasSubstr("client-certificate of user \"u\""));
  EXPECT_THAT(rc.status().message(), HasSubstr("/no/such.crt"));
}

TEST(Kubeconfig, ExecPluginSettings) {
  auto kc = Kubeconfig::Parse(R"(
users:
- name: u
  user:
    exec:
      apiVersion: client.authentication.k8s.io/v1
      command: ./bin/plugin
      args: [get-token, --x]
      env: [{name: A, value: b}]
      provideClusterInfo: true
      interactiveMode: Never
)",
                              "/etc/kube/config");
  ASSERT_TRUE(kc.ok()) << kc.status().ToString();
  const ExecConfig& exec = *kc->users().at("u").exec;
  EXPECT_EQ(exec.command, "/etc/kube/bin/plugin");
  EXPECT_EQ(exec.args, (std::vector<std::string>{"get-token", "--x"}));
  EXPECT_EQ(exec.env.at(0).first, "A");
  EXPECT_TRUE(exec.provide_cluster_info);

  auto bad = Kubeconfig::Parse(
      "users:\n- name: u\n  user:\n    exec: {apiVersion: v9, command: x}\n", "/k/cfg");
  ASSERT_FALSE(bad.ok());
  EXPECT_THAT(bad.status().message(), HasSubstr("users[0].user.exec.apiVersion"));
}

TEST(Kubeconfig, NameDefinedTwiceInOneFileIsAnError) {
  for (const char* list : {"clusters", "users", "contexts"}) {
    std::string body = std::string(list) == "clusters" ? "cluster"
                       : std::string(list) == "users"  ? "user"
                                                       : "context";
    std::string text = fmt::format(
        "{0}:\n- name: a\n  {1}: {{}}\n- name: b\n  {1}: {{}}\n"
        "- name: a\n  {1}: {{}}\n",
        list, body);
    auto kc = Kubeconfig::Parse(text, "/k/dup");
    ASSERT_FALSE(kc.ok()) << list;
    EXPECT_THAT(
        kc.status().message(),
        HasSubstr(fmt::format("kubeconfig /k/dup: {}[2].name: \"a\" is defined twice", list)));
  }
}

TEST(Kubeconfig, SameNameInTwoFilesIsNotAnError) {
  TempDir dir;
  std::string a = dir.Write("a", "clusters:\n- name: c\n  cluster: {server: https://a}\n");
  std::string b = dir.Write("b", "clusters:\n- name: c\n  cluster: {server: https://b}\n");
  auto kc = Kubeconfig::LoadMerged({a, b});
  ASSERT_TRUE(kc.ok()) << kc.status().ToString();
  EXPECT_EQ(kc->clusters().at("c").server, "https://a");
}

TEST(Kubeconfig, CredentialFilesWithoutPemNameTheFieldNotTheContent) {
  TempDir dir;
  std::string ca = dir.Write("ca.crt", "this is not a certificate\n");
  auto with_ca = [&](const std::string& cluster, const std::string& user) {
    return Config("x", "clusters:\n- name: c\n  cluster: {server: https://h, " + cluster +
                           "}\nusers:\n- name: u\n  user: {" + user +
                           "}\ncontexts:\n- name: x\n  context: {cluster: c, user: u}\n");
  };
  auto kc = Kubeconfig::Parse(with_ca("certificate-authority: " + ca, "token: t"), "/k/cfg");
  ASSERT_TRUE(kc.ok()) << kc.status().ToString();
  auto rc = kc->Resolve();
  ASSERT_FALSE(rc.ok());
  EXPECT_THAT(rc.status().message(),
              HasSubstr("kubeconfig /k/cfg: cluster \"c\": certificate-authority " + ca +
                        " holds no PEM certificate"));

  kc = Kubeconfig::Parse(with_ca("certificate-authority-data: " + EncodeBase64("junk"), "token: t"),
                         "/k/cfg");
  ASSERT_TRUE(kc.ok());
  EXPECT_THAT(kc->Resolve().status().message(),
              HasSubstr("certificate-authority-data holds no PEM certificate"));

  std::string user = "client-certificate-data: " + EncodeBase64(kCertPem) +
                     ", client-key-data: " + EncodeBase64("hunter2-secret-key");
  kc = Kubeconfig::Parse(with_ca("insecure-skip-tls-verify: true", user), "/k/cfg");
  ASSERT_TRUE(kc.ok());
  rc = kc->Resolve();
  ASSERT_FALSE(rc.ok());
  EXPECT_THAT(rc.status().message(),
              HasSubstr("user \"u\": client-key-data holds no PEM private key"));
  EXPECT_THAT(rc.status().message(), Not(HasSubstr("hunter2")));

  user = "client-certificate-data: " + EncodeBase64("nope") +
         ", client-key-data: " + EncodeBase64(kKeyPem);
  kc = Kubeconfig::Parse(with_ca("insecure-skip-tls-verify: true", user), "/k/cfg");
  ASSERT_TRUE(kc.ok());
  EXPECT_THAT(kc->Resolve().status().message(),
              HasSubstr("client-certificate-data holds no PEM certificate"));
}

TEST(Kubeconfig, InsecureSkipTlsVerifyWithACertificateAuthorityIsRefused) {
  auto kc = Kubeconfig::Parse(
      Config("x",
             "clusters:\n- name: c\n  cluster:\n    server: https://h\n"
             "    insecure-skip-tls-verify: true\n    certificate-authority-data: " +
                 EncodeBase64(kCaPem) + "\ncontexts:\n- name: x\n  context: {cluster: c}\n"),
      "/k/cfg");
  ASSERT_TRUE(kc.ok()) << kc.status().ToString();
  auto rc = kc->Resolve();
  ASSERT_FALSE(rc.ok());
  EXPECT_THAT(rc.status().message(),
              HasSubstr("kubeconfig /k/cfg: cluster \"c\": insecure-skip-tls-verify is set "
                        "together with certificate-authority-data"));

  kc = Kubeconfig::Parse(Config("x",
                                "clusters:\n- name: c\n  cluster: {server: https://h, "
                                "insecure-skip-tls-verify: true}\n"
                                "contexts:\n- name: x\n  context: {cluster: c}\n"),
                         "/k/cfg");
  ASSERT_TRUE(kc.ok()) << kc.status().ToString();
  rc = kc->Resolve();
  ASSERT_TRUE(rc.ok()) << rc.status().ToString();
  EXPECT_TRUE(rc->tls.insecure_skip_verify);
  EXPECT_TRUE(rc->tls.ca_pem.empty());
}

TEST(Kubeconfig, EmptyFileIsAnEmptyConfig) {
  auto kc = Kubeconfig::Parse("", "/k/empty");
  ASSERT_TRUE(kc.ok());
  EXPECT_TRUE(kc->contexts().empty());
  EXPECT_FALSE(kc->Resolve().ok());
}

TEST(Base64, RoundTrips) {
  for (std::string s : {"", "a", "ab", "abc", "abcd", "\x01\xff\x80 text"}) {
    auto decoded = DecodeBase64(EncodeBase64(s));
    ASSERT_TRUE(decoded.has_value());
    EXPECT_EQ(*decoded, s);
  }
  EXPECT_FALSE(DecodeBase64("ab$c").has_value());
  EXPECT_EQ(*DecodeBase64("YWJj\nZA=="), "abcd");
}

}  // namespace
}  // namespace aic::kube
