// A client for Azure Resource Manager: bearer authentication, retries with jittered backoff on
// 429 / 5xx / dropped connections (honouring Retry-After), ARM error bodies mapped into Status,
// a client request id on every call logged with the response's correlation id, and waits on
// long-running operations (Azure-AsyncOperation, else Location, else provisioningState).
#pragma once

#include <atomic>
#include <chrono>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "azure/auth.h"
#include "common/backoff.h"
#include "common/context.h"
#include "common/http.h"
#include "common/status.h"

namespace aic::azure {

using json = nlohmann::json;

struct ArmOptions {
  std::string endpoint = "https://management.azure.com";
  http::TlsOptions tls;
  BackoffPolicy retry{std::chrono::milliseconds(500), std::chrono::milliseconds(30000), 2.0, 8};
  // Poll interval of long-running operations when the server gives no Retry-After.
  std::chrono::milliseconds poll_interval{5000};
  // Upper bound of any single wait between polls, whatever the server asks for.
  std::chrono::milliseconds max_poll_interval{60000};
  // When a response reports fewer than `ratelimit_threshold` requests left in one of ARM's
  // rate-limit buckets (x-ms-ratelimit-remaining-*), the next calls drawing from that bucket
  // wait `ratelimit_pause` first, so the bucket refills instead of answering 429.
  long ratelimit_threshold = 10;
  std::chrono::milliseconds ratelimit_pause{2000};
};

// The rate-limit buckets a response reports through its x-ms-ratelimit-remaining-* headers,
// with the requests left in each: "reads", "writes", "deletes" (subscription, tenant and
// global variants alike; a header that names no kind counts for the kind of `method`), and
// "provider:<namespace>" for a resource provider's own limits (x-ms-ratelimit-remaining-resource,
// "Microsoft.Compute/HighCostGet3Min;159,...": the smallest count per namespace).
std::map<std::string, long> RateLimitBudgets(const http::Headers& headers,
                                             const std::string& method);

// The buckets a call of `method` to `path` draws from.
std::vector<std::string> RateLimitBuckets(const std::string& method, const std::string& path);

struct ArmResponse {
  int status = 0;
  http::Headers headers;
  json body;  // null when the body was empty or not JSON
  std::string Header(std::string_view name) const;
};

class ArmClient {
 public:
  static Result<std::unique_ptr<ArmClient>> Create(ArmOptions options,
                                                   std::shared_ptr<TokenSource> tokens);

  // One call with retries. `path` starts with "/" and carries no api-version. Non-2xx answers
  // (404 included) become a Status that carries the ARM error code and message.
  Result<ArmResponse> Call(const Context& ctx, const std::string& method, const std::string& path,
                           const std::string& api_version, const json* body = nullptr);

  // The resource, or nullopt when it does not exist.
  Result<std::optional<json>> Get(const Context& ctx, const std::string& id,
                                  const std::string& api_version);

  // Every item of a list, following nextLink. A list whose parent does not exist is empty.
  Result<std::vector<json>> List(const Context& ctx, const std::string& path,
                                 const std::string& api_version);

  // Creates or updates, then waits for the operation to end; returns the resource as it is
  // afterwards.
  Result<json> Put(const Context& ctx, const std::string& id, const std::string& api_version,
                   const json& body);

  // Deletes and waits; a resource that is already gone is not an error.
  Status Delete(const Context& ctx, const std::string& id, const std::string& api_version);

  // An action (register, listClusterUserCredential); waits when the answer is 202.
  Result<json> Post(const Context& ctx, const std::string& path, const std::string& api_version,
                    const json& body = json::object());

  // Calls that change something (PUT, POST, DELETE), counted for tests and plans.
  int writes() const { return writes_.load(); }

 private:
  ArmClient(ArmOptions options, std::unique_ptr<http::Client> http,
            std::shared_ptr<TokenSource> tokens);
  Result<ArmResponse> Once(const Context& ctx, const std::string& method, const std::string& url,
                           const std::string& body);
  Status WaitForOperation(const Context& ctx, const ArmResponse& first, const std::string& id,
                          const std::string& api_version, bool is_delete);
  Status WaitForTerminalState(const Context& ctx, const std::string& id,
                              const std::string& api_version);
  std::chrono::milliseconds PollDelay(const ArmResponse& r) const;
  Status WaitForRateLimit(const Context& ctx, const std::string& method, const std::string& url);
  void NoteRateLimit(const std::string& method, const http::Headers& headers);

  ArmOptions options_;
  std::unique_ptr<http::Client> http_;
  std::shared_ptr<TokenSource> tokens_;
  Backoff backoff_;
  std::mutex backoff_mu_;
  std::atomic<int> writes_{0};
  std::mutex ratelimit_mu_;
  std::map<std::string, Clock::time_point> resume_at_;  // bucket -> calls wait until then
  std::set<std::string> ratelimit_logged_;              // buckets already reported at info
};

// The user-facing text of an ARM error body {"error": {code, message, details}}.
std::string DescribeArmError(const json& body);

}  // namespace aic::azure
