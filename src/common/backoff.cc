#include "common/backoff.h"

#include <algorithm>
#include <cmath>

namespace aic {

std::chrono::milliseconds Backoff::Delay(int attempt, int retry_after_seconds) {
  using std::chrono::milliseconds;
  if (retry_after_seconds > 0) {
    return std::min(milliseconds(retry_after_seconds * 1000LL), policy_.max);
  }
  double cap = static_cast<double>(policy_.initial.count()) *
               std::pow(policy_.multiplier, std::max(0, attempt - 1));
  cap = std::min(cap, static_cast<double>(policy_.max.count()));
  std::uniform_real_distribution<double> jitter(cap / 2, cap);
  return milliseconds(static_cast<long long>(jitter(rng_)));
}

}  // namespace aic
