// Credential plugins (users[].user.exec, client.authentication.k8s.io/v1): runs the command,
// parses the ExecCredential it prints and caches it until its expirationTimestamp.
#pragma once

#include <chrono>
#include <functional>
#include <mutex>
#include <optional>
#include <string>

#include "common/context.h"
#include "common/status.h"
#include "kube/kubeconfig.h"

namespace aic::kube {

// Holds secrets: never log it.
struct Credential {
  std::string token;
  std::string client_cert_pem;
  std::string client_key_pem;
  // When the credential stops being valid; nullopt means until the server rejects it.
  std::optional<std::chrono::system_clock::time_point> expiry;
};

// Parses an ExecCredential document. `source` names the plugin in errors; errors never quote
// the document (it holds the secret).
Result<Credential> ParseExecCredential(std::string_view json_text, const std::string& api_version,
                                       const std::string& source);

// Parses an RFC 3339 time such as 2024-01-02T03:04:05Z or 2024-01-02T03:04:05.5+01:00.
std::optional<std::chrono::system_clock::time_point> ParseRfc3339(std::string_view text);

// Runs the plugin when no valid credential is cached. Thread-safe.
class ExecPlugin {
 public:
  using Now = std::function<std::chrono::system_clock::time_point()>;
  ExecPlugin(ExecConfig config, ClusterEntry cluster, Now now = nullptr);

  // The cached credential while it is valid, else a fresh one from the plugin. Errors name
  // the kubeconfig file and field and the command, and carry at most the tail of the
  // plugin's stderr, redacted.
  Result<Credential> Get(const Context& ctx);

  // Drops the cached credential (after the server answered 401 Unauthorized).
  void Invalidate();

  // How many times the command ran; tests use it to prove caching.
  int runs() const;

 private:
  Result<Credential> Run(const Context& ctx);
  std::string ExecInfo() const;

  ExecConfig config_;
  ClusterEntry cluster_;
  Now now_;
  mutable std::mutex mu_;
  std::optional<Credential> cached_;
  int runs_ = 0;
};

struct ProcessOutput {
  int exit_code = -1;  // or 128 + signal
  std::string out;
  std::string err;
};

// Runs `argv` with `env` added to this process's environment, stdin closed, until it exits or
// the context ends (then it is killed). Fails when it cannot be started.
Result<ProcessOutput> RunProcess(const Context& ctx, const std::vector<std::string>& argv,
                                 const std::vector<std::pair<std::string, std::string>>& env);

}  // namespace aic::kube
