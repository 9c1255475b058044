#include "kube/client.h"

#include <algorithm>
#include <fstream>
#include <sstream>

#include "common/log.h"
#include "kube/errors.h"

namespace aic::kube {

namespace {

// Whether another attempt of `call` is safe and useful after `status`.
bool WorthRetrying(const Status& status, const std::string& method) {
  if (!IsRetryable(status)) return false;
  int code = status.http_status();
  if (code != 0 && method == "GET") return true;  // the server answered 429 or 5xx
  // A write answered 500 or 504 may have been carried out (etcd committed, the answer timed
  // out): repeating it could fail with AlreadyExists or apply twice. Repeat it only when the
  // server turned it away (429, 503) or asked for it again with Retry-After.
  if (code != 0) return code == 429 || code == 503 || status.retry_after_seconds() > 0;
  // A transport failure (http.cc words them "cannot connect to <host>", "TLS verification of
  // <host> failed", ...). A failed certificate check will fail again: give up at once. Reads
  // are repeated; writes only when no connection was made, so the server never saw them.
  const std::string& m = status.message();
  if (m.rfind("TLS verification", 0) == 0) return false;
  return method == "GET" || m.rfind("cannot connect", 0) == 0;
}

}  // namespace

Client::Client(RestConfig config, ClientOptions options)
    : config_(std::move(config)), options_(std::move(options)) {}

Client::~Client() = default;

Result<std::unique_ptr<Client>> Client::Create(RestConfig config, ClientOptions options) {
  std::unique_ptr<Client> client(new Client(std::move(config), std::move(options)));
  if (client->config_.exec) {
    client->exec_ = std::make_unique<ExecPlugin>(*client->config_.exec, client->config_.cluster);
  }
  auto http = client->Transport(nullptr);
  if (!http.ok()) {
    return http.status().Prefixed(fmt::format("context \"{}\"", client->config_.context));
  }
  return client;
}

Result<std::unique_ptr<Client>> Client::FromKubeconfig(const std::string& path,
                                                       const std::string& context,
                                                       ClientOptions options) {
  AIC_ASSIGN_OR_RETURN(Kubeconfig kc, Kubeconfig::LoadDefault(path));
  AIC_ASSIGN_OR_RETURN(RestConfig rc, kc.Resolve(context));
  return Create(std::move(rc), std::move(options));
}

long Client::connections_opened() const {
  std::lock_guard lock(mu_);
  return retired_connections_ + (http_ ? http_->connections_opened() : 0);
}

std::string Client::last_protocol() const {
  std::lock_guard lock(mu_);
  return protocol_;
}

// The HTTP client for the TLS identity in use: the kubeconfig's, or the client certificate an
// exec plugin returned (a new certificate needs new connections).
Result<std::shared_ptr<http::Client>> Client::Transport(const Credential* cred) {
  std::string cert = cred ? cred->client_cert_pem : "";
  std::lock_guard lock(mu_);
  if (http_ && cert == http_cert_) return http_;
  http::ClientOptions opts;
  opts.tls = config_.tls;
  if (!cert.empty()) {
    opts.tls.client_cert_pem = cert;
    opts.tls.client_key_pem = cred->client_key_pem;
  }
  opts.proxy = config_.proxy;
  opts.http2 = options_.http2;
  AIC_ASSIGN_OR_RETURN(std::unique_ptr<http::Client> created, http::Client::Create(opts));
  if (http_) retired_connections_ += http_->connections_opened();
  http_ = std::move(created);
  http_cert_ = cert;
  return http_;
}

// Adds the Authorization header. Token files are read again after a minute, as kubectl does,
// so rotated tokens are picked up.
Status Client::Authorize(const Context& ctx, http::Request* request) {
  std::string token = config_.token;
  if (exec_) {
    AIC_ASSIGN_OR_RETURN(Credential cred, exec_->Get(ctx));
    token = cred.token;
  } else if (token.empty() && !config_.token_file.empty()) {
    std::lock_guard lock(mu_);
    if (file_token_.empty() || Clock::now() - file_token_read_ > std::chrono::minutes(1)) {
      std::ifstream in(config_.token_file);
      if (!in) {
        return Error(Code::kUnauthenticated, "cannot read tokenFile {} of context \"{}\"",
                     config_.token_file, config_.context);
      }
      std::stringstream buf;
      buf << in.rdbuf();
      file_token_ = buf.str();
      while (!file_token_.empty() && isspace(static_cast<unsigned char>(file_token_.back()))) {
        file_token_.pop_back();
      }
      file_token_read_ = Clock::now();
    }
    token = file_token_;
  }
  if (!token.empty()) request->headers.emplace_back("Authorization", "Bearer " + token);
  return Status::Ok();
}

// One attempt. Answers outside 2xx become a Status; the streamed body of a failed watch is
// kept (up to 64 KiB) to read the server's Status from it.
Result<http::Response> Client::SendOnce(const Context& ctx, const Call& call) {
  std::optional<Credential> cred;
  if (exec_) {
    AIC_ASSIGN_OR_RETURN(cred, exec_->Get(ctx));
  }
  AIC_ASSIGN_OR_RETURN(std::shared_ptr<http::Client> http, Transport(cred ? &*cred : nullptr));
  http::Request req;
  req.method = call.method;
  req.url = config_.server + call.path;
  req.body = call.body;
  req.headers = {{"Accept", "application/json"}, {"User-Agent", options_.user_agent}};
  if (!call.content_type.empty()) req.headers.emplace_back("Content-Type", call.content_type);
  AIC_RETURN_IF_ERROR(Authorize(ctx, &req));
  std::string head;
  if (call.on_body) {
    req.on_body = [&](std::string_view chunk) {
      if (head.size() < 65536) head.append(chunk.substr(0, 65536 - head.size()));
      return call.on_body(chunk);
    };
  }
  AIC_ASSIGN_OR_RETURN(http::Response resp, http->Do(ctx, req));
  {
    std::lock_guard lock(mu_);
    protocol_ = resp.protocol;
  }
  if (resp.status >= 200 && resp.status < 300) return resp;
  return StatusFromHttp(resp.status, call.on_body ? head : resp.body, resp.Header("Retry-After"),
                        call.what);
}

Result<http::Response> Client::Send(const Context& ctx, const Call& call) {
  Context c =
      ctx.deadline() == Clock::time_point::max() ? ctx.Child(options_.default_timeout) : ctx;
  Backoff backoff(options_.backoff);
  bool reauthenticated = false;
  // Answers of the server already name the call; failures before one (connecting, TLS, the
  // credential) get the call's name in front, so the user learns what was being attempted.
  auto described = [&](const Status& s) {
    return s.http_status() != 0 ? s : s.Prefixed(call.what);
  };
  for (int attempt = 1;; ++attempt) {
    auto result = SendOnce(c, call);
    if (result.ok()) return result;
    Status s = result.status();
    if (s.http_status() == 401 && exec_ && !reauthenticated) {
      exec_->Invalidate();  // the cached credential was revoked or expired early
      reauthenticated = true;
      continue;
    }
    if (!WorthRetrying(s, call.method) || !backoff.ShouldRetry(attempt)) return described(s);
    auto delay = backoff.Delay(attempt, s.retry_after_seconds());
    if (delay >= c.remaining()) return described(s);
    log::Get("kube")->info("{}: {}; retry {} in {} ms", call.what, s.message(), attempt,
                           delay.count());
    Status slept = c.Sleep(delay);
    if (!slept.ok()) {
      return Status(slept.code(), described(s).message() + " (then " + slept.message() + ")");
    }
  }
}

Result<json> Client::SendJson(const Context& ctx, const Call& call) {
  AIC_ASSIGN_OR_RETURN(http::Response resp, Send(ctx, call));
  if (resp.body.empty()) return json::object();
  json doc = json::parse(resp.body, nullptr, false);
  if (doc.is_discarded()) {
    return Error(Code::kInternal, "{}: the server at {} did not answer with JSON", call.what,
                 http::HostOf(config_.server));
  }
  return doc;
}

std::string Client::NamespaceFor(const ResourceInfo& res, std::string_view ns,
                                 const json& obj) const {
  if (!res.namespaced) return "";
  if (!ns.empty()) return std::string(ns);
  if (obj.is_object() && obj.contains("metadata")) {
    std::string from_object = obj["metadata"].value("namespace", "");
    if (!from_object.empty()) return from_object;
  }
  return config_.ns;
}

Result<json> Client::Get(const Context& ctx, const ResourceInfo& res, std::string_view ns,
                         std::string_view name) {
  std::string n = NamespaceFor(res, ns, json());
  return SendJson(ctx, {"GET", res.Path(n, name), "", "", "get " + Describe(res, n, name)});
}

Result<json> Client::List(const Context& ctx, const ResourceInfo& res, std::string_view ns,
                          const ListOptions& options) {
  std::string path = res.Path(ns) + ListQuery(options);
  return SendJson(ctx, {"GET", path, "", "", "list " + Describe(res, ns, "")});
}

Result<json> Client::ListAll(const Context& ctx, const ResourceInfo& res, std::string_view ns,
                             ListOptions options) {
  if (options.limit <= 0) options.limit = 500;
  AIC_ASSIGN_OR_RETURN(json all, List(ctx, res, ns, options));
  if (!all["items"].is_array()) all["items"] = json::array();
  json& items = all["items"];
  std::string next = all["metadata"].value("continue", "");
  while (!next.empty()) {
    options.continue_token = next;
    options.resource_version.clear();  // the token pins the snapshot
    auto page = List(ctx, res, ns, options);
    if (!page.ok() && page.status().code() == Code::kGone) {
      // The snapshot expired between pages: start over without paging, as kubectl does.
      options.limit = 0;
      options.continue_token.clear();
      return List(ctx, res, ns, options);
    }
    if (!page.ok()) return page.status();
    for (auto& item : (*page)["items"])
      items.push_back(std::move(item));
    next = (*page)["metadata"].value("continue", "");
  }
  all["metadata"].erase("continue");
  all["metadata"].erase("remainingItemCount");
  return all;
}

Result<json> Client::Create(const Context& ctx, const ResourceInfo& res, std::string_view ns,
                            const json& object) {
  std::string n = NamespaceFor(res, ns, object);
  std::string name =
      object.is_object() && object.contains("metadata") ? object["metadata"].value("name", "") : "";
  return SendJson(ctx, {"POST", res.Path(n), object.dump(), "application/json",
                        "create " + Describe(res, n, name)});
}

Result<json> Client::Update(const Context& ctx, const ResourceInfo& res, std::string_view ns,
                            const json& object, std::string_view subresource) {
  std::string n = NamespaceFor(res, ns, object);
  std::string name =
      object.is_object() && object.contains("metadata") ? object["metadata"].value("name", "") : "";
  if (name.empty()) return Status(Code::kInvalidArgument, "update: metadata.name is required");
  return SendJson(ctx, {"PUT", res.Path(n, name, subresource), object.dump(), "application/json",
                        "update " + Describe(res, n, name)});
}

Result<json> Client::Patch(const Context& ctx, const ResourceInfo& res, std::string_view ns,
                           std::string_view name, PatchType type, const json& patch,
                           const PatchOptions& options) {
  AIC_ASSIGN_OR_RETURN(std::string query, PatchQuery(type, options));
  std::string n = NamespaceFor(res, ns, json());
  return SendJson(ctx, {"PATCH", res.Path(n, name) + query, patch.dump(), PatchContentType(type),
                        "patch " + Describe(res, n, name)});
}

Result<json> Client::Apply(const Context& ctx, const ResourceInfo& res, std::string_view ns,
                           const json& object, const std::string& field_manager, bool force) {
  AIC_ASSIGN_OR_RETURN(std::string body, ApplyBody(res, object));
  PatchOptions options{field_manager, force, false};
  AIC_ASSIGN_OR_RETURN(std::string query, PatchQuery(PatchType::kApply, options));
  std::string n = NamespaceFor(res, ns, object);
  std::string name = object["metadata"].value("name", "");
  return SendJson(ctx, {"PATCH", res.Path(n, name) + query, std::move(body),
                        PatchContentType(PatchType::kApply), "apply " + Describe(res, n, name)});
}

Result<json> Client::Delete(const Context& ctx, const ResourceInfo& res, std::string_view ns,
                            std::string_view name, const DeleteOptions& options) {
  std::string n = NamespaceFor(res, ns, json());
  return SendJson(ctx, {"DELETE", res.Path(n, name), DeleteBody(options).dump(), "application/json",
                        "delete " + Describe(res, n, name)});
}

Result<json> Client::CreateSubresource(const Context& ctx, const ResourceInfo& res,
                                       std::string_view ns, std::string_view name,
                                       std::string_view subresource, const json& body) {
  std::string n = NamespaceFor(res, ns, json());
  return SendJson(ctx, {"POST", res.Path(n, name, subresource), body.dump(), "application/json",
                        fmt::format("create {} of {}", subresource, Describe(res, n, name))});
}

Result<json> Client::Raw(const Context& ctx, const std::string& method, const std::string& path,
                         const std::string& body, const std::string& content_type) {
  return SendJson(ctx, {method, path, body, content_type, method + " " + path});
}

}  // namespace aic::kube
