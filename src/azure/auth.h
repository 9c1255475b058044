// Credentials for Azure Resource Manager, tried in the order Azure users expect: a service
// principal from the environment (secret or certificate), workload identity (a federated token
// file), managed identity (IMDS), then the Azure CLI. Tokens are cached until shortly before they
// expire and are never logged.
#pragma once

#include <chrono>
#include <memory>
#include <mutex>
#include <string>

#include "common/context.h"
#include "common/http.h"
#include "common/status.h"

namespace aic::azure {

struct AccessToken {
  std::string token;  // never logged
  std::chrono::system_clock::time_point expires_at;
};

class TokenSource {
 public:
  virtual ~TokenSource() = default;
  // A token for `scope` (e.g. "https://management.azure.com/.default").
  virtual Result<AccessToken> Fetch(const Context& ctx, const std::string& scope) = 0;
  virtual std::string Name() const = 0;
};

// Caches the token of `inner` until five minutes before its expiry. Thread-safe.
class CachedTokenSource : public TokenSource {
 public:
  explicit CachedTokenSource(std::unique_ptr<TokenSource> inner) : inner_(std::move(inner)) {}
  Result<AccessToken> Fetch(const Context& ctx, const std::string& scope) override;
  std::string Name() const override { return inner_->Name(); }
  int fetches() const { return fetches_; }

 private:
  std::unique_ptr<TokenSource> inner_;
  std::mutex mu_;
  AccessToken cached_;
  std::string cached_scope_;
  int fetches_ = 0;
};

struct AuthOptions {
  // "", "env", "workload-identity", "managed-identity", "cli". Empty tries each in order.
  std::string method;
  http::TlsOptions tls;  // trust for the authority host and IMDS (tests use their own CA)
};

// Picks the credential as described at the top of this file. Fails with kUnauthenticated naming
// what was tried when none is usable. Reads AZURE_CLIENT_ID, AZURE_TENANT_ID,
// AZURE_CLIENT_SECRET, AZURE_CLIENT_CERTIFICATE_PATH, AZURE_FEDERATED_TOKEN_FILE,
// AZURE_AUTHORITY_HOST and AZURE_POD_IDENTITY_AUTHORITY_HOST (an IMDS endpoint override).
Result<std::unique_ptr<TokenSource>> MakeTokenSource(const Context& ctx,
                                                     const AuthOptions& options);

// A signed RS256 JWT client assertion for the certificate in `pem` (private key and
// certificate), audience `token_url`. Exposed for tests.
Result<std::string> MakeClientAssertion(const std::string& pem, const std::string& client_id,
                                        const std::string& token_url);

}  // namespace aic::azure
