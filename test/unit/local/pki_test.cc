#include "local/pki.h"

#include <algorithm>

#include <gtest/gtest.h>

#include "local/control_plane.h"

namespace aic::local {
namespace {

bool Has(const std::vector<std::string>& v, const std::string& x) {
  return std::find(v.begin(), v.end(), x) != v.end();
}

TEST(Pki, ServingCertChainsToItsCaAndCarriesSans) {
  auto ca = CreateCA("test-ca");
  ASSERT_TRUE(ca.ok()) << ca.status().message();
  CertSpec spec{"kube-apiserver",           {},   {"kubernetes.default.svc", "localhost"},
                {"127.0.0.1", "10.96.0.1"}, true, false};
  auto leaf = IssueCert(*ca, spec);
  ASSERT_TRUE(leaf.ok()) << leaf.status().message();

  EXPECT_TRUE(VerifyCert(ca->cert_pem, leaf->cert_pem).ok());
  auto info = InspectCert(leaf->cert_pem);
  ASSERT_TRUE(info.ok());
  EXPECT_EQ(info->subject_cn, "kube-apiserver");
  EXPECT_TRUE(Has(info->dns_names, "kubernetes.default.svc"));
  EXPECT_TRUE(Has(info->ip_addresses, "10.96.0.1"));
  EXPECT_FALSE(info->is_ca);
  EXPECT_GT(info->seconds_until_expiry, 300L * 86400);
}

TEST(Pki, ClientCertCarriesGroupsAsOrganizations) {
  auto ca = CreateCA("test-ca");
  ASSERT_TRUE(ca.ok());
  auto admin = IssueCert(*ca, {"kubernetes-admin", {"system:masters"}, {}, {}, false, true});
  ASSERT_TRUE(admin.ok());
  auto info = InspectCert(admin->cert_pem);
  ASSERT_TRUE(info.ok());
  EXPECT_EQ(info->organizations, std::vector<std::string>{"system:masters"});
  auto ca_info = InspectCert(ca->cert_pem);
  ASSERT_TRUE(ca_info.ok());
  EXPECT_TRUE(ca_info->is_ca);
}

TEST(Pki, CertFromAnotherCaDoesNotVerify) {
  auto ca = CreateCA("one");
  auto other = CreateCA("two");
  ASSERT_TRUE(ca.ok() && other.ok());
  auto leaf = IssueCert(*other, {"x", {}, {}, {}, false, true});
  ASSERT_TRUE(leaf.ok());
  EXPECT_FALSE(VerifyCert(ca->cert_pem, leaf->cert_pem).ok());
}

TEST(Pki, MalformedCaIsRejected) {
  KeyPair bogus{"not a certificate", "not a key"};
  auto leaf = IssueCert(bogus, {"x", {}, {}, {}, false, true});
  EXPECT_FALSE(leaf.ok());
  EXPECT_EQ(leaf.status().code(), Code::kInvalidArgument);
}

TEST(Kubeconfig, EmbedsServerAndBase64Credentials) {
  std::string yaml = MakeKubeconfig("c1", "https://127.0.0.1:6443", "CA", "admin", "CERT", "KEY");
  EXPECT_NE(yaml.find("server: https://127.0.0.1:6443"), std::string::npos);
  EXPECT_NE(yaml.find("certificate-authority-data: " + Base64("CA")), std::string::npos);
  EXPECT_NE(yaml.find("client-key-data: " + Base64("KEY")), std::string::npos);
  EXPECT_NE(yaml.find("current-context: admin@c1"), std::string::npos);
}

TEST(Base64, MatchesKnownVectors) {
  EXPECT_EQ(Base64(""), "");
  EXPECT_EQ(Base64("f"), "Zg==");
  EXPECT_EQ(Base64("foobar"), "Zm9vYmFy");
}

}  // namespace
}  // namespace aic::local
