// Exponential backoff with full jitter, shared by the Kubernetes and Azure clients.
#pragma once

#include <chrono>
#include <random>

namespace aic {

struct BackoffPolicy {
  std::chrono::milliseconds initial{200};
  std::chrono::milliseconds max{10000};
  double multiplier = 2.0;
  int max_attempts = 8;  // attempts in all, the first included
};

class Backoff {
 public:
  explicit Backoff(BackoffPolicy policy, unsigned seed = std::random_device{}())
      : policy_(policy), rng_(seed) {}

  // The wait before retry number `attempt` (1 for the first retry): a random duration in
  // [cap/2, cap], where cap grows by `multiplier` per attempt up to `max`. A server's
  // Retry-After (seconds, when > 0) takes precedence, bounded by `max` as well.
  std::chrono::milliseconds Delay(int attempt, int retry_after_seconds = 0);

  bool ShouldRetry(int attempts_made) const { return attempts_made < policy_.max_attempts; }
  const BackoffPolicy& policy() const { return policy_; }

 private:
  BackoffPolicy policy_;
  std::mt19937 rng_;
};

}  // namespace aic
