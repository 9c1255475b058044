#include "azure/auth.h"

#include <stdio.h>
#include <sys/wait.h>
#include <unistd.h>
#include <cstdlib>
#include <fstream>
#include <random>
#include <sstream>

#include <fmt/format.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/sha.h>
#include <openssl/x509.h>
#include <nlohmann/json.hpp>

#include "common/log.h"

namespace aic::azure {
namespace {

using json = nlohmann::json;
using SysClock = std::chrono::system_clock;

std::string Env(const char* name) {
  const char* v = std::getenv(name);
  return v ? v : "";
}

std::string ReadFile(const std::string& path) {
  std::ifstream in(path);
  std::stringstream buf;
  buf << in.rdbuf();
  return buf.str();
}

std::string Base64Url(const unsigned char* data, size_t n) {
  static const char* k = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
  std::string out;
  for (size_t i = 0; i < n; i += 3) {
    unsigned v = data[i] << 16 | (i + 1 < n ? data[i + 1] << 8 : 0) | (i + 2 < n ? data[i + 2] : 0);
    out += k[(v >> 18) & 63];
    out += k[(v >> 12) & 63];
    if (i + 1 < n) out += k[(v >> 6) & 63];
    if (i + 2 < n) out += k[v & 63];
  }
  return out;
}
std::string Base64Url(const std::string& s) {
  return Base64Url(reinterpret_cast<const unsigned char*>(s.data()), s.size());
}

std::string AuthorityHost() {
  std::string host = Env("AZURE_AUTHORITY_HOST");
  if (host.empty()) host = "https://login.microsoftonline.com";
  while (!host.empty() && host.back() == '/')
    host.pop_back();
  return host;
}

std::string FormEncode(const std::vector<std::pair<std::string, std::string>>& fields) {
  std::string out;
  for (const auto& [k, v] : fields) {
    out += (out.empty() ? "" : "&") + http::Escape(k) + "=" + http::Escape(v);
  }
  return out;
}

// Reads an OAuth2 token response ({access_token, expires_in}) or IMDS ({access_token,
// expires_on}); errors carry the server's error code and description, never the body itself.
Result<AccessToken> ParseTokenResponse(const http::Response& resp, const std::string& who) {
  json body = json::parse(resp.body, nullptr, false);
  if (resp.status != 200 || body.is_discarded() || !body.contains("access_token")) {
    std::string code = body.is_object() ? body.value("error", "") : "";
    std::string desc = body.is_object() ? body.value("error_description", "") : "";
    return Status(Code::kUnauthenticated,
                  fmt::format("{}: token request failed with HTTP {}: {} {}", who, resp.status,
                              code, desc.substr(0, desc.find('\n'))))
        .WithHttp(resp.status, code);
  }
  AccessToken t;
  t.token = body["access_token"].get<std::string>();
  auto num = [&](const char* key) -> long {
    if (!body.contains(key)) return 0;
    const auto& v = body[key];
    return v.is_string() ? std::atol(v.get<std::string>().c_str()) : v.get<long>();
  };
  if (long in = num("expires_in"); in > 0) {
    t.expires_at = SysClock::now() + std::chrono::seconds(in);
  } else if (long on = num("expires_on"); on > 0) {
    t.expires_at = SysClock::time_point(std::chrono::seconds(on));
  } else {
    t.expires_at = SysClock::now() + std::chrono::minutes(5);
  }
  return t;
}

// The client-credentials grant against the authority host, with a secret or an assertion.
class ClientCredentialSource : public TokenSource {
 public:
  ClientCredentialSource(std::string name, std::string tenant, std::string client_id,
                         std::string secret, std::string cert_path, std::string federated_file,
                         http::TlsOptions tls)
      : name_(std::move(name)),
        tenant_(std::move(tenant)),
        client_id_(std::move(client_id)),
        secret_(std::move(secret)),
        cert_path_(std::move(cert_path)),
        federated_file_(std::move(federated_file)),
        tls_(std::move(tls)) {}

  std::string Name() const override { return name_; }

  Result<AccessToken> Fetch(const Context& ctx, const std::string& scope) override {
    std::string url = fmt::format("{}/{}/oauth2/v2.0/token", AuthorityHost(), tenant_);
    std::vector<std::pair<std::string, std::string>> form = {
        {"grant_type", "client_credentials"}, {"client_id", client_id_}, {"scope", scope}};
    if (!secret_.empty()) {
      form.emplace_back("client_secret", secret_);
    } else {
      std::string assertion;
      if (!federated_file_.empty()) {
        // Re-read each time: the kubelet rotates the projected token.
        assertion = ReadFile(federated_file_);
        while (!assertion.empty() && std::isspace(static_cast<unsigned char>(assertion.back())))
          assertion.pop_back();
        if (assertion.empty()) {
          return Error(Code::kUnauthenticated, "{}: federated token file \"{}\" is empty", name_,
                       federated_file_);
        }
      } else {
        AIC_ASSIGN_OR_RETURN(assertion, MakeClientAssertion(ReadFile(cert_path_), client_id_, url));
      }
      form.emplace_back("client_assertion_type",
                        "urn:ietf:params:oauth:client-assertion-type:jwt-bearer");
      form.emplace_back("client_assertion", assertion);
    }
    http::ClientOptions opts;
    opts.tls = tls_;
    AIC_ASSIGN_OR_RETURN(auto client, http::Client::Create(opts));
    http::Request req{"POST",
                      url,
                      {{"Content-Type", "application/x-www-form-urlencoded"}},
                      FormEncode(form),
                      nullptr};
    AIC_ASSIGN_OR_RETURN(auto resp, client->Do(ctx, req));
    return ParseTokenResponse(resp, name_);
  }

 private:
  std::string name_, tenant_, client_id_, secret_, cert_path_, federated_file_;
  http::TlsOptions tls_;
};

class ManagedIdentitySource : public TokenSource {
 public:
  ManagedIdentitySource(std::string client_id, http::TlsOptions tls)
      : client_id_(std::move(client_id)), tls_(std::move(tls)) {}
  std::string Name() const override { return "managed identity"; }

  Result<AccessToken> Fetch(const Context& ctx, const std::string& scope) override {
    std::string host = Env("AZURE_POD_IDENTITY_AUTHORITY_HOST");
    if (host.empty()) host = "http://169.254.169.254";
    while (!host.empty() && host.back() == '/')
      host.pop_back();
    std::string resource = scope.substr(0, scope.rfind("/.default")) + "/";
    std::string url = fmt::format(
        "{}/metadata/identity/oauth2/token?api-version=2018-02-01&"
        "resource={}",
        host, http::Escape(resource));
    if (!client_id_.empty()) url += "&client_id=" + http::Escape(client_id_);
    http::ClientOptions opts{tls_, "", false, std::chrono::milliseconds(2000)};
    AIC_ASSIGN_OR_RETURN(auto client, http::Client::Create(opts));
    http::Request req{"GET", url, {{"Metadata", "true"}}, "", nullptr};
    auto resp = client->Do(ctx.Child(std::chrono::seconds(10)), req);
    if (!resp.ok()) {
      return Status(Code::kUnauthenticated,
                    "managed identity: IMDS unreachable: " + resp.status().message());
    }
    return ParseTokenResponse(*resp, Name());
  }

 private:
  std::string client_id_;
  http::TlsOptions tls_;
};

class AzureCliSource : public TokenSource {
 public:
  std::string Name() const override { return "Azure CLI"; }

  Result<AccessToken> Fetch(const Context&, const std::string& scope) override {
    std::string resource = scope.substr(0, scope.rfind("/.default")) + "/";
    std::string cmd = fmt::format(
        "az account get-access-token --resource '{}' --output json "
        "2>/dev/null",
        resource);
    FILE* pipe = popen(cmd.c_str(), "r");
    if (!pipe) return Status(Code::kUnauthenticated, "Azure CLI: cannot run az");
    std::string out;
    char buf[4096];
    while (size_t n = fread(buf, 1, sizeof buf, pipe))
      out.append(buf, n);
    int rc = pclose(pipe);
    json body = json::parse(out, nullptr, false);
    if (rc != 0 || body.is_discarded() || !body.contains("accessToken")) {
      return Status(Code::kUnauthenticated,
                    "Azure CLI: `az account get-access-token` failed; run `az login` first");
    }
    AccessToken t;
    t.token = body["accessToken"].get<std::string>();
    long on = body.contains("expires_on") ? body["expires_on"].get<long>() : 0;
    t.expires_at = on > 0 ? SysClock::time_point(std::chrono::seconds(on))
                          : SysClock::now() + std::chrono::minutes(5);
    return t;
  }
};

bool OnPath(const std::string& program) {
  std::string path = Env("PATH");
  std::stringstream ss(path);
  for (std::string dir; std::getline(ss, dir, ':');) {
    if (access((dir + "/" + program).c_str(), X_OK) == 0) return true;
  }
  return false;
}

// The credential of one method, or an error saying what is missing.
Result<std::unique_ptr<TokenSource>> Make(const std::string& method, const AuthOptions& o) {
  std::string tenant = Env("AZURE_TENANT_ID"), client = Env("AZURE_CLIENT_ID");
  if (method == "env") {
    std::string secret = Env("AZURE_CLIENT_SECRET"), cert = Env("AZURE_CLIENT_CERTIFICATE_PATH");
    if (tenant.empty() || client.empty() || (secret.empty() && cert.empty())) {
      return Status(Code::kUnauthenticated,
                    "service principal: set AZURE_TENANT_ID, AZURE_CLIENT_ID and "
                    "AZURE_CLIENT_SECRET or AZURE_CLIENT_CERTIFICATE_PATH");
    }
    if (secret.empty() && access(cert.c_str(), R_OK) != 0) {
      return Error(Code::kUnauthenticated, "service principal: cannot read certificate \"{}\"",
                   cert);
    }
    return std::unique_ptr<TokenSource>(std::make_unique<ClientCredentialSource>(
        "service principal", tenant, client, secret, secret.empty() ? cert : "", "", o.tls));
  }
  if (method == "workload-identity") {
    std::string file = Env("AZURE_FEDERATED_TOKEN_FILE");
    if (tenant.empty() || client.empty() || file.empty()) {
      return Status(Code::kUnauthenticated,
                    "workload identity: set AZURE_TENANT_ID, AZURE_CLIENT_ID and "
                    "AZURE_FEDERATED_TOKEN_FILE");
    }
    return std::unique_ptr<TokenSource>(std::make_unique<ClientCredentialSource>(
        "workload identity", tenant, client, "", "", file, o.tls));
  }
  if (method == "managed-identity") {
    return std::unique_ptr<TokenSource>(std::make_unique<ManagedIdentitySource>(client, o.tls));
  }
  if (method == "cli") {
    if (!OnPath("az")) return Status(Code::kUnauthenticated, "Azure CLI: az is not on PATH");
    return std::unique_ptr<TokenSource>(std::make_unique<AzureCliSource>());
  }
  return Error(Code::kInvalidArgument,
               "unknown --auth \"{}\"; allowed: env, workload-identity, managed-identity, cli",
               method);
}

}  // namespace

Result<AccessToken> CachedTokenSource::Fetch(const Context& ctx, const std::string& scope) {
  std::lock_guard lock(mu_);
  if (!cached_.token.empty() && cached_scope_ == scope &&
      SysClock::now() + std::chrono::minutes(5) < cached_.expires_at) {
    return cached_;
  }
  ++fetches_;
  AIC_ASSIGN_OR_RETURN(cached_, inner_->Fetch(ctx, scope));
  cached_scope_ = scope;
  log::Get("azure")->debug("auth: new token from {}", inner_->Name());
  return cached_;
}

Result<std::unique_ptr<TokenSource>> MakeTokenSource(const Context& ctx,
                                                     const AuthOptions& options) {
  if (!options.method.empty()) {
    AIC_ASSIGN_OR_RETURN(auto src, Make(options.method, options));
    return std::unique_ptr<TokenSource>(std::make_unique<CachedTokenSource>(std::move(src)));
  }
  std::vector<std::string> tried;
  for (const char* method : {"env", "workload-identity", "managed-identity", "cli"}) {
    auto src = Make(method, options);
    if (!src.ok()) {
      tried.push_back(src.status().message());
      continue;
    }
    if (std::string(method) == "managed-identity") {
      // Only a reachable IMDS makes managed identity the choice; probe it once.
      auto probe = (*src)->Fetch(ctx, "https://management.azure.com/.default");
      if (!probe.ok()) {
        tried.push_back(probe.status().message());
        continue;
      }
    }
    log::Get("azure")->info("auth: using {}", (*src)->Name());
    return std::unique_ptr<TokenSource>(std::make_unique<CachedTokenSource>(std::move(*src)));
  }
  return Status(Code::kUnauthenticated,
                fmt::format("no Azure credential found; tried: {}", fmt::join(tried, "; ")));
}

Result<std::string> MakeClientAssertion(const std::string& pem, const std::string& client_id,
                                        const std::string& token_url) {
  BIO* bio = BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size()));
  EVP_PKEY* key = PEM_read_bio_PrivateKey(bio, nullptr, nullptr, nullptr);
  BIO_free(bio);
  bio = BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size()));
  X509* cert = PEM_read_bio_X509(bio, nullptr, nullptr, nullptr);
  BIO_free(bio);
  if (!key || !cert) {
    EVP_PKEY_free(key);
    X509_free(cert);
    return Status(Code::kUnauthenticated,
                  "service principal: the certificate file needs a PEM private key and "
                  "certificate");
  }
  unsigned char thumb[SHA_DIGEST_LENGTH];
  unsigned int thumb_len = 0;
  X509_digest(cert, EVP_sha1(), thumb, &thumb_len);
  X509_free(cert);

  std::random_device rd;
  std::string jti = fmt::format("{:08x}{:08x}{:08x}{:08x}", rd(), rd(), rd(), rd());
  long now =
      std::chrono::duration_cast<std::chrono::seconds>(SysClock::now().time_since_epoch()).count();
  json header = {{"alg", "RS256"}, {"typ", "JWT"}, {"x5t", Base64Url(thumb, thumb_len)}};
  json claims = {{"aud", token_url}, {"iss", client_id}, {"sub", client_id},
                 {"jti", jti},       {"nbf", now},       {"exp", now + 600}};
  std::string signing_input = Base64Url(header.dump()) + "." + Base64Url(claims.dump());

  EVP_MD_CTX* md = EVP_MD_CTX_new();
  size_t sig_len = 0;
  std::string sig;
  bool ok = EVP_DigestSignInit(md, nullptr, EVP_sha256(), nullptr, key) == 1 &&
            EVP_DigestSign(md, nullptr, &sig_len,
                           reinterpret_cast<const unsigned char*>(signing_input.data()),
                           signing_input.size()) == 1;
  if (ok) {
    sig.resize(sig_len);
    ok = EVP_DigestSign(md, reinterpret_cast<unsigned char*>(sig.data()), &sig_len,
                        reinterpret_cast<const unsigned char*>(signing_input.data()),
                        signing_input.size()) == 1;
    sig.resize(sig_len);
  }
  EVP_MD_CTX_free(md);
  EVP_PKEY_free(key);
  if (!ok) return Status(Code::kUnauthenticated, "service principal: signing the assertion failed");
  return signing_input + "." + Base64Url(sig);
}

}  // namespace aic::azure
