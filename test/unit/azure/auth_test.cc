#include "azure/auth.h"

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>

#include <gtest/gtest.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <nlohmann/json.hpp>

namespace aic::azure {
namespace {

class CountingSource : public TokenSource {
 public:
  explicit CountingSource(int* calls, std::chrono::seconds ttl) : calls_(calls), ttl_(ttl) {}
  Result<AccessToken> Fetch(const Context&, const std::string&) override {
    ++*calls_;
    return AccessToken{"tok-" + std::to_string(*calls_), std::chrono::system_clock::now() + ttl_};
  }
  std::string Name() const override { return "counting"; }

 private:
  int* calls_;
  std::chrono::seconds ttl_;
};

TEST(Auth, TokensAreCachedUntilCloseToExpiry) {
  int calls = 0;
  CachedTokenSource fresh(std::make_unique<CountingSource>(&calls, std::chrono::hours(1)));
  Context ctx;
  EXPECT_EQ(fresh.Fetch(ctx, "s")->token, "tok-1");
  EXPECT_EQ(fresh.Fetch(ctx, "s")->token, "tok-1");
  EXPECT_EQ(calls, 1);

  int calls2 = 0;
  CachedTokenSource stale(std::make_unique<CountingSource>(&calls2, std::chrono::minutes(2)));
  (void)stale.Fetch(ctx, "s");
  (void)stale.Fetch(ctx, "s");
  EXPECT_EQ(calls2, 2) << "a token expiring within five minutes must be renewed";
}

TEST(Auth, ExplicitMethodWithoutItsEnvironmentSaysWhatIsMissing) {
  unsetenv("AZURE_FEDERATED_TOKEN_FILE");
  auto src = MakeTokenSource(Context(), {"workload-identity", {}});
  ASSERT_FALSE(src.ok());
  EXPECT_NE(src.status().message().find("AZURE_FEDERATED_TOKEN_FILE"), std::string::npos);
}

std::string Base64UrlDecode(std::string s) {
  for (auto& c : s)
    c = c == '-' ? '+' : c == '_' ? '/' : c;
  while (s.size() % 4)
    s += '=';
  std::string out(s.size(), '\0');
  int n = EVP_DecodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                          reinterpret_cast<const unsigned char*>(s.data()), s.size());
  size_t pad = 0;
  for (size_t i = s.size(); i > 0 && s[i - 1] == '='; --i)
    ++pad;
  out.resize(n - pad);
  return out;
}

TEST(Auth, ClientAssertionIsAnRs256JwtSignedByTheCertificateKey) {
  auto dir = std::filesystem::temp_directory_path() / ("aic-auth-" + std::to_string(getpid()));
  std::filesystem::create_directories(dir);
  std::string cmd = "openssl req -x509 -newkey rsa:2048 -nodes -days 1 -subj /CN=sp -keyout " +
                    (dir / "k.pem").string() + " -out " + (dir / "c.pem").string() +
                    " >/dev/null 2>&1";
  ASSERT_EQ(std::system(cmd.c_str()), 0);
  std::stringstream pem;
  pem << std::ifstream(dir / "k.pem").rdbuf() << std::ifstream(dir / "c.pem").rdbuf();

  auto jwt = MakeClientAssertion(pem.str(), "client-1", "https://login/t/oauth2/v2.0/token");
  ASSERT_TRUE(jwt.ok()) << jwt.status().message();
  auto dot1 = jwt->find('.'), dot2 = jwt->rfind('.');
  auto header = nlohmann::json::parse(Base64UrlDecode(jwt->substr(0, dot1)));
  auto claims = nlohmann::json::parse(Base64UrlDecode(jwt->substr(dot1 + 1, dot2 - dot1 - 1)));
  EXPECT_EQ(header["alg"], "RS256");
  EXPECT_FALSE(header["x5t"].get<std::string>().empty());
  EXPECT_EQ(claims["aud"], "https://login/t/oauth2/v2.0/token");
  EXPECT_EQ(claims["iss"], "client-1");
  EXPECT_EQ(claims["sub"], "client-1");

  // The signature verifies with the certificate's public key.
  FILE* f = fopen((dir / "c.pem").c_str(), "r");
  X509* cert = PEM_read_X509(f, nullptr, nullptr, nullptr);
  fclose(f);
  EVP_PKEY* pub = X509_get_pubkey(cert);
  std::string input = jwt->substr(0, dot2), sig = Base64UrlDecode(jwt->substr(dot2 + 1));
  EVP_MD_CTX* md = EVP_MD_CTX_new();
  ASSERT_EQ(EVP_DigestVerifyInit(md, nullptr, EVP_sha256(), nullptr, pub), 1);
  EXPECT_EQ(EVP_DigestVerify(md, reinterpret_cast<const unsigned char*>(sig.data()), sig.size(),
                             reinterpret_cast<const unsigned char*>(input.data()), input.size()),
            1);
  EVP_MD_CTX_free(md);
  EVP_PKEY_free(pub);
  X509_free(cert);
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace aic::azure
