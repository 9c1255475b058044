#include "common/backoff.h"

#include <gtest/gtest.h>

namespace aic {
namespace {

using std::chrono::milliseconds;

TEST(Backoff, GrowsWithinJitterBoundsAndCaps) {
  Backoff b(BackoffPolicy{milliseconds(100), milliseconds(1000), 2.0, 10}, 42);
  for (int attempt = 1; attempt <= 8; ++attempt) {
    long cap = std::min(100L << (attempt - 1), 1000L);
    auto d = b.Delay(attempt).count();
    EXPECT_GE(d, cap / 2) << "attempt " << attempt;
    EXPECT_LE(d, cap) << "attempt " << attempt;
  }
}

TEST(Backoff, RetryAfterWinsButIsBounded) {
  Backoff b(BackoffPolicy{milliseconds(100), milliseconds(5000), 2.0, 10}, 1);
  EXPECT_EQ(b.Delay(1, 3), milliseconds(3000));
  EXPECT_EQ(b.Delay(1, 60), milliseconds(5000));
}

TEST(Backoff, StopsAfterMaxAttempts) {
  Backoff b(BackoffPolicy{milliseconds(1), milliseconds(2), 2.0, 3});
  EXPECT_TRUE(b.ShouldRetry(2));
  EXPECT_FALSE(b.ShouldRetry(3));
}

}  // namespace
}  // namespace aic
