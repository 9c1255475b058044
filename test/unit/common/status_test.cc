#include "common/status.h"

#include <gtest/gtest.h>

namespace aic {
namespace {

Result<int> Half(int n) {
  if (n % 2 != 0) return Error(Code::kInvalidArgument, "{} is odd", n);
  return n / 2;
}

Result<int> Quarter(int n) {
  AIC_ASSIGN_OR_RETURN(int half, Half(n));
  AIC_ASSIGN_OR_RETURN(int quarter, Half(half));
  return quarter;
}

TEST(Status, DefaultIsOk) {
  Status s;
  EXPECT_TRUE(s.ok());
  EXPECT_EQ(s.ToString(), "ok");
}

TEST(Status, CarriesHttpDetailsAndPrefix) {
  Status s = Status(Code::kNotFound, "configmaps \"x\" not found").WithHttp(404, "NotFound");
  Status p = s.Prefixed("get configmap");
  EXPECT_EQ(p.code(), Code::kNotFound);
  EXPECT_EQ(p.http_status(), 404);
  EXPECT_EQ(p.reason(), "NotFound");
  EXPECT_EQ(p.message(), "get configmap: configmaps \"x\" not found");
}

TEST(Status, CodeForHttpCoversServerAnswers) {
  EXPECT_EQ(CodeForHttp(400), Code::kInvalidArgument);
  EXPECT_EQ(CodeForHttp(401), Code::kUnauthenticated);
  EXPECT_EQ(CodeForHttp(403), Code::kPermissionDenied);
  EXPECT_EQ(CodeForHttp(404), Code::kNotFound);
  EXPECT_EQ(CodeForHttp(408), Code::kUnavailable);
  EXPECT_EQ(CodeForHttp(409), Code::kConflict);
  EXPECT_EQ(CodeForHttp(410), Code::kGone);
  EXPECT_EQ(CodeForHttp(422), Code::kUnprocessable);
  EXPECT_EQ(CodeForHttp(429), Code::kTooManyRequests);
  EXPECT_EQ(CodeForHttp(412), Code::kFailedPrecondition);
  EXPECT_EQ(CodeForHttp(501), Code::kUnavailable);
  EXPECT_EQ(CodeForHttp(599), Code::kUnavailable);
  EXPECT_EQ(CodeForHttp(600), Code::kInternal);
  EXPECT_EQ(CodeForHttp(304), Code::kInternal);
}

TEST(Result, PropagatesTheFirstError) {
  EXPECT_EQ(*Quarter(8), 2);
  Result<int> r = Quarter(6);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), Code::kInvalidArgument);
  EXPECT_EQ(r.status().message(), "3 is odd");
}

}  // namespace
}  // namespace aic
