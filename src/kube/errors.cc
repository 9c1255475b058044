#include "kube/errors.h"

#include <cstdlib>

#include <nlohmann/json.hpp>

#include "common/log.h"

namespace aic::kube {
namespace {

// A 409 is AlreadyExists or a conflict; apiservers behind some proxies answer an expired
// resourceVersion with reason Expired or Gone and another code.
Code CodeFor(int http_status, const std::string& reason) {
  if (http_status == 409 && reason == "AlreadyExists") return Code::kAlreadyExists;
  if (reason == "Expired" || reason == "Gone") return Code::kGone;
  return CodeForHttp(http_status);
}

}  // namespace

Status StatusFromObject(std::string_view what, int code, const std::string& reason,
                        const std::string& message) {
  std::string text = message.empty() ? fmt::format("{}: HTTP {} {}", what, code, reason)
                                     : fmt::format("{}: {}", what, message);
  Status status(CodeFor(code, reason), std::move(text));
  status.WithHttp(code, reason);
  return status;
}

Status StatusFromHttp(int http_status, std::string_view body, std::string_view retry_after,
                      std::string_view what) {
  std::string reason, message;
  auto doc = nlohmann::json::parse(body, nullptr, false);
  if (!doc.is_discarded() && doc.is_object() && doc.value("kind", "") == "Status") {
    reason = doc.value("reason", "");
    message = doc.value("message", "");
  } else if (!body.empty() && body.size() < 200 && body.find('{') == std::string_view::npos) {
    // A plain-text answer from a proxy or the server, which may echo what it was sent.
    message = log::Redact(body);
    while (!message.empty() && (message.back() == '\n' || message.back() == '\r')) {
      message.pop_back();
    }
  }
  Status status = StatusFromObject(what, http_status, reason, message);
  int seconds = retry_after.empty() ? 0 : std::atoi(std::string(retry_after).c_str());
  if (seconds > 0) status.WithRetryAfter(seconds);
  return status;
}

bool IsRetryable(const Status& status) {
  switch (status.code()) {
    case Code::kTooManyRequests:
    case Code::kUnavailable:
      return true;
    default:
      return false;
  }
}

}  // namespace aic::kube
