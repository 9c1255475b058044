#include "kube/errors.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace aic::kube {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

std::string StatusBody(int code, const std::string& reason, const std::string& message) {
  return R"({"kind":"Status","apiVersion":"v1","status":"Failure","message":")" + message +
         R"(","reason":")" + reason + R"(","code":)" + std::to_string(code) + "}";
}

struct Case {
  int http;
  std::string reason;
  Code code;
};

TEST(StatusFromHttp, MapsCodesAndReasons) {
  std::vector<Case> cases = {
      {404, "NotFound", Code::kNotFound},
      {409, "AlreadyExists", Code::kAlreadyExists},
      {409, "Conflict", Code::kConflict},
      {410, "Expired", Code::kGone},
      {422, "Invalid", Code::kUnprocessable},
      {400, "BadRequest", Code::kInvalidArgument},
      {401, "Unauthorized", Code::kUnauthenticated},
      {403, "Forbidden", Code::kPermissionDenied},
      {429, "TooManyRequests", Code::kTooManyRequests},
      {500, "InternalError", Code::kUnavailable},
      {503, "ServiceUnavailable", Code::kUnavailable},
      {504, "Timeout", Code::kUnavailable},
      {418, "", Code::kFailedPrecondition},
      {302, "", Code::kInternal},
  };
  for (const auto& c : cases) {
    Status s = StatusFromHttp(c.http, StatusBody(c.http, c.reason, "m"), "", "get x");
    EXPECT_EQ(s.code(), c.code) << c.http << " " << c.reason;
    EXPECT_EQ(s.http_status(), c.http);
    EXPECT_EQ(s.reason(), c.reason);
  }
}

TEST(StatusFromHttp, KeepsServerMessageAndRetryAfter) {
  Status s =
      StatusFromHttp(429, StatusBody(429, "TooManyRequests", "slow down"), "7", "list configmaps");
  EXPECT_EQ(s.message(), "list configmaps: slow down");
  EXPECT_EQ(s.retry_after_seconds(), 7);
  EXPECT_TRUE(IsRetryable(s));
  EXPECT_FALSE(IsRetryable(StatusFromHttp(404, "", "", "get x")));
}

TEST(StatusFromHttp, NonStatusBodies) {
  Status s = StatusFromHttp(502, "Bad Gateway\n", "", "get pods");
  EXPECT_EQ(s.code(), Code::kUnavailable);
  EXPECT_EQ(s.message(), "get pods: Bad Gateway");
  s = StatusFromHttp(500, "<html>" + std::string(500, 'x'), "", "get pods");
  EXPECT_THAT(s.message(), HasSubstr("get pods: HTTP 500"));
  s = StatusFromHttp(401, "no access for Authorization: Bearer s3cr3t-t0ken", "", "get pods");
  EXPECT_THAT(s.message(), HasSubstr("get pods: no access for Authorization: Bearer"));
  EXPECT_THAT(s.message(), Not(HasSubstr("s3cr3t")));
}

TEST(StatusFromObject, WatchErrorExpiredIsGone) {
  Status s = StatusFromObject("watch pods", 410, "Expired", "too old resource version: 1 (5)");
  EXPECT_EQ(s.code(), Code::kGone);
  EXPECT_THAT(s.message(), HasSubstr("too old resource version"));
}

}  // namespace
}  // namespace aic::kube
