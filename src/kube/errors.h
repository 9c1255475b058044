// Kubernetes API failures mapped into aic::Status.
#pragma once

#include <string>
#include <string_view>

#include "common/status.h"

namespace aic::kube {

// The Status for an HTTP answer that is not 2xx. `body` is the answer (a Kubernetes Status
// object when the API server wrote it); `retry_after` the Retry-After header; `what` names
// the call ("get configmaps/x in default") and prefixes the message when the body has none.
//   404 -> kNotFound; 409 reason AlreadyExists -> kAlreadyExists, other 409 -> kConflict;
//   410 -> kGone; 422 -> kUnprocessable; 400 -> kInvalidArgument; 401 -> kUnauthenticated;
//   403 -> kPermissionDenied; 429 -> kTooManyRequests; 5xx -> kUnavailable (504 with reason
//   Timeout too); anything else -> kInternal.
// The result carries the HTTP code, the Status reason and the Retry-After seconds.
Status StatusFromHttp(int http_status, std::string_view body, std::string_view retry_after,
                      std::string_view what);

// The Status for a Kubernetes Status object seen inside a watch stream (an ERROR event).
Status StatusFromObject(std::string_view what, int code, const std::string& reason,
                        const std::string& message);

// True for failures worth another attempt of the same call: 429, 5xx and connection failures.
bool IsRetryable(const Status& status);

}  // namespace aic::kube
