#include "azure/arm.h"

#include <cctype>
#include <cstring>
#include <random>
#include <sstream>
#include <thread>

#include <fmt/format.h>

#include "common/log.h"

namespace aic::azure {
namespace {

using std::chrono::milliseconds;

constexpr char kArmScope[] = "https://management.azure.com/.default";

std::string NewRequestId() {
  static thread_local std::mt19937_64 rng(std::random_device{}());
  uint64_t a = rng(), b = rng();
  return fmt::format("{:08x}-{:04x}-4{:03x}-{:04x}-{:012x}", a >> 32, (a >> 16) & 0xffff, a & 0xfff,
                     (b >> 48 & 0x3fff) | 0x8000, b & 0xffffffffffffULL);
}

bool Retryable(int status) {
  return status == 408 || status == 429 || status == 500 || status == 502 || status == 503 ||
         status == 504;
}

std::string WithApiVersion(const std::string& path, const std::string& api_version) {
  return path + (path.find('?') == std::string::npos ? "?" : "&") + "api-version=" + api_version;
}

std::string LowerCase(std::string s) {
  for (auto& c : s)
    c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

const char* KindOf(const std::string& method) {
  if (method == "GET" || method == "HEAD") return "reads";
  return method == "DELETE" ? "deletes" : "writes";
}

bool Terminal(const std::string& state) {
  return state == "Succeeded" || state == "Failed" || state == "Canceled";
}

}  // namespace

std::string ArmResponse::Header(std::string_view name) const {
  http::Response r;
  r.headers = headers;
  return r.Header(name);
}

std::map<std::string, long> RateLimitBudgets(const http::Headers& headers,
                                             const std::string& method) {
  constexpr std::string_view kPrefix = "x-ms-ratelimit-remaining-";
  std::map<std::string, long> out;
  auto keep = [&out](const std::string& bucket, long n) {
    auto [it, fresh] = out.emplace(bucket, n);
    if (!fresh) it->second = std::min(it->second, n);
  };
  for (const auto& [raw_name, value] : headers) {
    std::string name = LowerCase(raw_name);
    if (name.rfind(kPrefix, 0) != 0) continue;
    std::string what = name.substr(kPrefix.size());
    if (what == "resource") {
      // "Namespace/Policy;count" entries, comma-separated.
      std::stringstream entries(value);
      for (std::string e; std::getline(entries, e, ',');) {
        e.erase(0, e.find_first_not_of(' '));
        auto slash = e.find('/'), semi = e.rfind(';');
        if (slash == std::string::npos || semi == std::string::npos || semi < slash) continue;
        char* end = nullptr;
        long n = std::strtol(e.c_str() + semi + 1, &end, 10);
        if (end != e.c_str() + semi + 1) keep("provider:" + LowerCase(e.substr(0, slash)), n);
      }
      continue;
    }
    char* end = nullptr;
    long n = std::strtol(value.c_str(), &end, 10);
    if (end == value.c_str()) continue;
    std::string kind = KindOf(method);
    for (const char* k : {"reads", "writes", "deletes"}) {
      if (what.size() >= std::strlen(k) &&
          what.compare(what.size() - std::strlen(k), std::string::npos, k) == 0) {
        kind = k;
      }
    }
    keep(kind, n);
  }
  return out;
}

std::vector<std::string> RateLimitBuckets(const std::string& method, const std::string& path) {
  std::vector<std::string> out = {KindOf(method)};
  // The provider is the namespace after the last "/providers/" of the path.
  std::string low = LowerCase(path.substr(0, path.find('?')));
  if (auto at = low.rfind("/providers/"); at != std::string::npos) {
    std::string ns = low.substr(at + 11);
    out.push_back("provider:" + ns.substr(0, ns.find('/')));
  }
  return out;
}

std::string DescribeArmError(const json& body) {
  if (!body.is_object()) return "no error details";
  const json& e = body.contains("error") && body["error"].is_object() ? body["error"] : body;
  std::string out = fmt::format("{}: {}", e.value("code", "Unknown"), e.value("message", ""));
  if (e.contains("details") && e["details"].is_array()) {
    for (const auto& d : e["details"]) {
      if (d.is_object()) {
        out += fmt::format("; {}: {}", d.value("code", ""), d.value("message", ""));
      }
    }
  }
  return out;
}

ArmClient::ArmClient(ArmOptions options, std::unique_ptr<http::Client> http,
                     std::shared_ptr<TokenSource> tokens)
    : options_(std::move(options)),
      http_(std::move(http)),
      tokens_(std::move(tokens)),
      backoff_(options_.retry) {}

Result<std::unique_ptr<ArmClient>> ArmClient::Create(ArmOptions options,
                                                     std::shared_ptr<TokenSource> tokens) {
  while (!options.endpoint.empty() && options.endpoint.back() == '/')
    options.endpoint.pop_back();
  AIC_ASSIGN_OR_RETURN(auto http,
                       http::Client::Create({options.tls, "", true, milliseconds(10000)}));
  return std::unique_ptr<ArmClient>(new ArmClient(std::move(options), std::move(http), tokens));
}

Status ArmClient::WaitForRateLimit(const Context& ctx, const std::string& method,
                                   const std::string& url) {
  Clock::time_point until{};
  {
    std::lock_guard lock(ratelimit_mu_);
    for (const auto& b : RateLimitBuckets(method, url)) {
      if (auto it = resume_at_.find(b); it != resume_at_.end()) until = std::max(until, it->second);
    }
  }
  if (until <= Clock::now()) return Status::Ok();
  auto ms = std::chrono::duration_cast<milliseconds>(until - Clock::now());
  log::Get("azure")->debug("{} {}: waiting {} ms for ARM's rate limit", method,
                           url.substr(options_.endpoint.size()), ms.count());
  return ctx.Sleep(ms);
}

void ArmClient::NoteRateLimit(const std::string& method, const http::Headers& headers) {
  auto budgets = RateLimitBudgets(headers, method);
  std::lock_guard lock(ratelimit_mu_);
  for (const auto& [bucket, left] : budgets) {
    if (left >= options_.ratelimit_threshold) continue;
    auto& at = resume_at_[bucket];
    at = std::max(at, Clock::now() + options_.ratelimit_pause);
    if (ratelimit_logged_.insert(bucket).second) {
      log::Get("azure")->info(
          "ARM rate limit: {} {} left (below {}); pausing {} ms before such calls while it lasts",
          left, bucket, options_.ratelimit_threshold, options_.ratelimit_pause.count());
    }
  }
}

Result<ArmResponse> ArmClient::Once(const Context& ctx, const std::string& method,
                                    const std::string& url, const std::string& body) {
  AIC_RETURN_IF_ERROR(WaitForRateLimit(ctx, method, url));
  AIC_ASSIGN_OR_RETURN(auto token, tokens_->Fetch(ctx, kArmScope));
  std::string request_id = NewRequestId();
  http::Request req;
  req.method = method;
  req.url = url;
  req.body = body;
  req.headers = {{"Authorization", "Bearer " + token.token},
                 {"Accept", "application/json"},
                 {"x-ms-client-request-id", request_id},
                 {"x-ms-return-client-request-id", "true"},
                 {"User-Agent", "aiconform"}};
  if (!body.empty()) req.headers.emplace_back("Content-Type", "application/json");
  if (method != "GET") writes_++;

  auto start = Clock::now();
  auto resp = http_->Do(ctx, req);
  auto ms = std::chrono::duration_cast<milliseconds>(Clock::now() - start).count();
  auto logger = log::Get("azure");
  std::string path = url.substr(options_.endpoint.size());
  if (!resp.ok()) {
    logger->debug("{} {}: {} (client-request-id {}, {} ms)", method, path, resp.status().message(),
                  request_id, ms);
    return resp.status();
  }
  logger->debug("{} {} -> {} (client-request-id {}, correlation-id {}, {} ms)", method, path,
                resp->status, request_id, resp->Header("x-ms-correlation-request-id"), ms);
  NoteRateLimit(method, resp->headers);
  ArmResponse out;
  out.status = resp->status;
  out.headers = std::move(resp->headers);
  out.body = resp->body.empty() ? json() : json::parse(resp->body, nullptr, false);
  if (out.body.is_discarded()) out.body = json();
  return out;
}

Result<ArmResponse> ArmClient::Call(const Context& ctx, const std::string& method,
                                    const std::string& path, const std::string& api_version,
                                    const json* body) {
  std::string url = path.rfind("https://", 0) == 0 || path.rfind("http://", 0) == 0
                        ? path
                        : options_.endpoint + WithApiVersion(path, api_version);
  if (http::HostOf(url) != http::HostOf(options_.endpoint)) {
    // Tokens go to the ARM endpoint only, never to a host named in a response header.
    return Error(Code::kInternal, "refusing to call {}: not the ARM endpoint", http::HostOf(url));
  }
  std::string payload = body ? body->dump() : "";
  for (int attempt = 1;; ++attempt) {
    auto resp = Once(ctx, method, url, payload);
    int retry_after_ms = 0;
    Status failure;
    if (!resp.ok()) {
      failure = resp.status();
      if (failure.code() != Code::kUnavailable) return failure;
    } else if (resp->status >= 200 && resp->status < 300) {
      return resp;
    } else {
      failure =
          Status(CodeForHttp(resp->status), fmt::format("{} {}: HTTP {}: {}", method, path,
                                                        resp->status, DescribeArmError(resp->body)))
              .WithHttp(resp->status, resp->body.is_object() && resp->body.contains("error")
                                          ? resp->body["error"].value("code", "")
                                          : "");
      if (!Retryable(resp->status)) return failure;
      if (auto ms = resp->Header("retry-after-ms"); !ms.empty()) {
        retry_after_ms = std::atoi(ms.c_str());
      } else if (auto s = resp->Header("Retry-After"); !s.empty()) {
        retry_after_ms = std::atoi(s.c_str()) * 1000;
      }
    }
    if (!backoff_.ShouldRetry(attempt)) return failure;
    milliseconds wait = std::min(milliseconds(retry_after_ms), options_.retry.max);
    if (retry_after_ms <= 0) {
      std::lock_guard lock(backoff_mu_);
      wait = backoff_.Delay(attempt);
    }
    log::Get("azure")->info("{} {}: {}; retry {} in {} ms", method, path, failure.message(),
                            attempt, wait.count());
    AIC_RETURN_IF_ERROR(ctx.Sleep(wait));
  }
}

Result<std::optional<json>> ArmClient::Get(const Context& ctx, const std::string& id,
                                           const std::string& api_version) {
  auto resp = Call(ctx, "GET", id, api_version);
  if (!resp.ok()) {
    if (resp.status().code() == Code::kNotFound) return std::optional<json>();
    return resp.status();
  }
  return std::optional<json>(std::move(resp->body));
}

Result<std::vector<json>> ArmClient::List(const Context& ctx, const std::string& path,
                                          const std::string& api_version) {
  std::vector<json> items;
  std::string next = path;
  // nextLink is an absolute URL that carries its own api-version and skip token; Call sends it
  // only when it names the ARM endpoint.
  for (int page = 0; !next.empty(); ++page) {
    if (page >= 1000) return Error(Code::kInternal, "{}: more than 1000 pages", path);
    auto resp = Call(ctx, "GET", next, api_version);
    if (!resp.ok()) {
      if (resp.status().code() == Code::kNotFound && page == 0) return items;
      return resp.status();
    }
    json& body = resp->body;
    if (body.is_object() && body.contains("value") && body["value"].is_array()) {
      for (auto& item : body["value"])
        items.push_back(std::move(item));
    }
    bool more = body.is_object() && body.contains("nextLink") && body["nextLink"].is_string();
    next = more ? body["nextLink"].get<std::string>() : "";
  }
  return items;
}

milliseconds ArmClient::PollDelay(const ArmResponse& r) const {
  milliseconds d = options_.poll_interval;
  if (auto ms = r.Header("retry-after-ms"); !ms.empty()) {
    d = milliseconds(std::atoi(ms.c_str()));
  } else if (auto s = r.Header("Retry-After"); !s.empty()) {
    d = milliseconds(std::atoi(s.c_str()) * 1000);
  }
  return std::min(d, options_.max_poll_interval);
}

Status ArmClient::WaitForOperation(const Context& ctx, const ArmResponse& first,
                                   const std::string& id, const std::string& api_version,
                                   bool is_delete) {
  std::string async = first.Header("Azure-AsyncOperation");
  std::string location = first.Header("Location");
  ArmResponse last = first;
  if (!async.empty()) {
    // The operation resource: {"status": InProgress|Succeeded|Failed|Canceled, "error": {...}}.
    for (;;) {
      AIC_RETURN_IF_ERROR(ctx.Sleep(PollDelay(last)));
      AIC_ASSIGN_OR_RETURN(last, Call(ctx, "GET", async, api_version));
      std::string status = last.body.is_object() ? last.body.value("status", "") : "";
      if (status == "Succeeded") return Status::Ok();
      if (status == "Failed" || status == "Canceled") {
        return Error(Code::kFailedPrecondition, "{}: operation {}: {}", id, status,
                     DescribeArmError(last.body));
      }
    }
  }
  if (!location.empty()) {
    // 202 while running; the final answer (200/201/204) ends it.
    for (;;) {
      AIC_RETURN_IF_ERROR(ctx.Sleep(PollDelay(last)));
      auto r = Call(ctx, "GET", location, api_version);
      if (!r.ok()) {
        if (is_delete && r.status().code() == Code::kNotFound) return Status::Ok();
        return r.status();
      }
      last = std::move(*r);
      if (last.status != 202) return Status::Ok();
    }
  }
  if (is_delete || first.status == 204) return Status::Ok();
  // No operation header: follow the resource's own provisioningState.
  for (std::string state = first.body.is_object() && first.body.contains("properties")
                               ? first.body["properties"].value("provisioningState", "Succeeded")
                               : "Succeeded";
       !Terminal(state);) {
    AIC_RETURN_IF_ERROR(ctx.Sleep(PollDelay(last)));
    AIC_ASSIGN_OR_RETURN(last, Call(ctx, "GET", id, api_version));
    state = last.body["properties"].value("provisioningState", "Succeeded");
    if (state == "Failed" || state == "Canceled") {
      return Error(Code::kFailedPrecondition, "{}: provisioningState {}", id, state);
    }
  }
  return Status::Ok();
}

Result<json> ArmClient::Put(const Context& ctx, const std::string& id,
                            const std::string& api_version, const json& body) {
  // A 409 "operation in progress" (for example our own earlier PUT, whose answer a dropped
  // connection swallowed) is waited out, then the PUT is sent again.
  Result<ArmResponse> sent = Status(Code::kInternal, "not sent");
  for (int attempt = 1; attempt <= 5; ++attempt) {
    sent = Call(ctx, "PUT", id, api_version, &body);
    const Status& st = sent.status();
    bool busy = st.code() == Code::kConflict && (st.reason() == "OperationNotAllowed" ||
                                                 st.reason() == "AnotherOperationInProgress");
    if (!busy) break;
    log::Get("azure")->info("{}: another operation is in progress; waiting for it", id);
    AIC_RETURN_IF_ERROR(WaitForTerminalState(ctx, id, api_version));
  }
  if (!sent.ok()) return sent.status();
  ArmResponse first = std::move(*sent);
  AIC_RETURN_IF_ERROR(WaitForOperation(ctx, first, id, api_version, false));
  if (first.Header("Azure-AsyncOperation").empty() && first.Header("Location").empty() &&
      first.body.is_object() && first.body.contains("properties") &&
      first.body["properties"].value("provisioningState", "Succeeded") == "Succeeded") {
    return first.body;
  }
  AIC_ASSIGN_OR_RETURN(auto after, Get(ctx, id, api_version));
  if (!after) return Error(Code::kInternal, "{}: gone right after it was created", id);
  return *after;
}

Status ArmClient::WaitForTerminalState(const Context& ctx, const std::string& id,
                                       const std::string& api_version) {
  for (;;) {
    AIC_ASSIGN_OR_RETURN(auto got, Get(ctx, id, api_version));
    if (!got || !got->is_object() || !got->contains("properties")) return Status::Ok();
    if (Terminal((*got)["properties"].value("provisioningState", "Succeeded"))) {
      return Status::Ok();
    }
    AIC_RETURN_IF_ERROR(ctx.Sleep(options_.poll_interval));
  }
}

Status ArmClient::Delete(const Context& ctx, const std::string& id,
                         const std::string& api_version) {
  auto first = Call(ctx, "DELETE", id, api_version);
  if (!first.ok()) {
    return first.status().code() == Code::kNotFound ? Status::Ok() : first.status();
  }
  return WaitForOperation(ctx, *first, id, api_version, true);
}

Result<json> ArmClient::Post(const Context& ctx, const std::string& path,
                             const std::string& api_version, const json& body) {
  AIC_ASSIGN_OR_RETURN(auto first, Call(ctx, "POST", path, api_version, &body));
  if (first.status == 202) {
    AIC_RETURN_IF_ERROR(WaitForOperation(ctx, first, path, api_version, false));
  }
  return first.body;
}

}  // namespace aic::azure
