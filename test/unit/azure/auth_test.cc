#include "azure/auth.h"

#include <unistd.h>
#include <algorithm>
#include <cstdio>
#include <cstdlib>
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

// A fake `az` on PATH that prints what `az account get-access-token` prints and records its
// arguments, one line per call.
class FakeAzureCli : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() /
           ("aic-fake-az-" + std::to_string(::getpid()) + "-" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::create_directories(dir_);
    old_path_ = std::getenv("PATH") ? std::getenv("PATH") : "";
    setenv("PATH", (dir_.string() + ":" + old_path_).c_str(), 1);
  }
  void TearDown() override {
    setenv("PATH", old_path_.c_str(), 1);
    std::filesystem::remove_all(dir_);
  }

  void WriteAz(const std::string& json_out, int exit_code = 0) {
    std::string script = dir_ / "az";
    std::ofstream(script) << "#!/bin/sh\necho \"$*\" >> '" << (dir_ / "calls").string()
                          << "'\ncat <<'EOF'\n"
                          << json_out << "\nEOF\nexit " << exit_code << "\n";
    std::filesystem::permissions(script, std::filesystem::perms::owner_all);
  }

  std::string Calls() {
    std::ifstream in(dir_ / "calls");
    std::stringstream s;
    s << in.rdbuf();
    return s.str();
  }

  std::filesystem::path dir_;
  std::string old_path_;
};

nlohmann::json AzOutput(long expires_on) {
  return {{"accessToken", "fake-az-token-5f3a9c"},
          {"expiresOn", "2099-01-01 00:00:00.000000"},
          {"expires_on", expires_on},
          {"subscription", "11111111-2222-3333-4444-555555555555"},
          {"tenant", "tenant-from-az"},
          {"tokenType", "Bearer"}};
}

TEST_F(FakeAzureCli, TokenComesFromAzForTheArmResourceAndIsCachedUntilExpiry) {
  long in_an_hour =
      std::chrono::duration_cast<std::chrono::seconds>(
          (std::chrono::system_clock::now() + std::chrono::hours(1)).time_since_epoch())
          .count();
  WriteAz(AzOutput(in_an_hour).dump());
  auto src = MakeTokenSource(Context(), {"cli", {}});
  ASSERT_TRUE(src.ok()) << src.status().message();
  EXPECT_EQ((*src)->Name(), "Azure CLI");
  for (int i = 0; i < 2; ++i) {
    auto t = (*src)->Fetch(Context(), "https://management.azure.com/.default");
    ASSERT_TRUE(t.ok()) << t.status().message();
    EXPECT_EQ(t->token, "fake-az-token-5f3a9c");
    auto left = t->expires_at - std::chrono::system_clock::now();
    EXPECT_GT(left, std::chrono::minutes(55));
    EXPECT_LT(left, std::chrono::minutes(61));
  }
  std::string calls = Calls();
  EXPECT_EQ(std::count(calls.begin(), calls.end(), '\n'), 1) << calls;
  EXPECT_NE(calls.find("account get-access-token --resource https://management.azure.com/"),
            std::string::npos)
      << calls;
}

TEST_F(FakeAzureCli, ExpiredTokenIsFetchedAgain) {
  long past = std::chrono::duration_cast<std::chrono::seconds>(
                  (std::chrono::system_clock::now() - std::chrono::minutes(1)).time_since_epoch())
                  .count();
  WriteAz(AzOutput(past).dump());
  auto src = MakeTokenSource(Context(), {"cli", {}});
  ASSERT_TRUE(src.ok());
  ASSERT_TRUE((*src)->Fetch(Context(), "https://management.azure.com/.default").ok());
  ASSERT_TRUE((*src)->Fetch(Context(), "https://management.azure.com/.default").ok());
  std::string calls = Calls();
  EXPECT_EQ(std::count(calls.begin(), calls.end(), '\n'), 2) << calls;
}

TEST_F(FakeAzureCli, FailingAzAsksForLoginAndShowsNoOutput) {
  WriteAz(R"({"accessToken": "leaked-if-shown"})", 1);
  auto src = MakeTokenSource(Context(), {"cli", {}});
  ASSERT_TRUE(src.ok());
  auto t = (*src)->Fetch(Context(), "https://management.azure.com/.default");
  ASSERT_FALSE(t.ok());
  EXPECT_EQ(t.status().code(), Code::kUnauthenticated);
  EXPECT_NE(t.status().message().find("az login"), std::string::npos);
  EXPECT_EQ(t.status().message().find("leaked-if-shown"), std::string::npos);
}

}  // namespace
}  // namespace aic::azure
