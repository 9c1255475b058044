#include "common/log.h"

#include <gtest/gtest.h>

namespace aic::log {
namespace {

TEST(Redact, HidesBearerTokensKeysAndSecretFields) {
  std::string line = Redact("Authorization: Bearer abc.def-123 for user");
  EXPECT_EQ(line.find("abc.def-123"), std::string::npos);
  EXPECT_NE(line.find("for user"), std::string::npos);

  std::string key =
      Redact("x -----BEGIN RSA PRIVATE KEY-----\nMIIsecret\n-----END RSA PRIVATE KEY----- y");
  EXPECT_EQ(key.find("MIIsecret"), std::string::npos);
  EXPECT_EQ(key.front(), 'x');
  EXPECT_EQ(key.back(), 'y');

  std::string json = Redact(R"({"token":"s3cr3t","kind":"ExecCredential"})");
  EXPECT_EQ(json.find("s3cr3t"), std::string::npos);
  EXPECT_NE(json.find("ExecCredential"), std::string::npos);

  EXPECT_EQ(Redact("client_secret=hunter2&x=1").find("hunter2"), std::string::npos);
}

TEST(Redact, HidesABareJsonWebToken) {
  const std::string jwt =
      "eyJhbGciOiJSUzI1NiIsImtpZCI6IngifQ.eyJzdWIiOiJzeXN0ZW06c2VydmljZWFjY291bnQ6YTpiIn0."
      "c2lnbmF0dXJlLWJ5dGVz_-x";
  std::string line = Redact("error: the server rejected " + jwt + " (expired)");
  EXPECT_EQ(line, "error: the server rejected [redacted token] (expired)");
}

TEST(Redact, LeavesOrdinaryTextAlone) {
  EXPECT_EQ(Redact("node worker-1 is Ready"), "node worker-1 is Ready");
}

}  // namespace
}  // namespace aic::log
