#include "common/http.h"

#include <strings.h>
#include <algorithm>
#include <atomic>
#include <cstdlib>
#include <cstring>
#include <mutex>

#include <curl/curl.h>

#include "common/log.h"

namespace aic::http {
namespace {

struct GlobalInit {
  GlobalInit() { curl_global_init(CURL_GLOBAL_DEFAULT); }
};

void EnsureCurl() {
  static GlobalInit init;
}

// State of one transfer, reachable from curl's callbacks.
struct Transfer {
  const Context* ctx = nullptr;
  const Request* request = nullptr;
  Response* response = nullptr;
  bool stopped_by_caller = false;
};

size_t OnHeader(char* data, size_t size, size_t n, void* user) {
  auto* t = static_cast<Transfer*>(user);
  std::string_view line(data, size * n);
  if (line.substr(0, 5) == "HTTP/") {
    t->response->headers.clear();  // a new response (after 100-continue, for example)
    return size * n;
  }
  auto colon = line.find(':');
  if (colon == std::string_view::npos) return size * n;
  auto trim = [](std::string_view s) {
    while (!s.empty() && (s.front() == ' ' || s.front() == '\t'))
      s.remove_prefix(1);
    while (!s.empty() && (s.back() == '\r' || s.back() == '\n' || s.back() == ' ')) {
      s.remove_suffix(1);
    }
    return std::string(s);
  };
  t->response->headers.emplace_back(trim(line.substr(0, colon)), trim(line.substr(colon + 1)));
  return size * n;
}

size_t OnBody(char* data, size_t size, size_t n, void* user) {
  auto* t = static_cast<Transfer*>(user);
  std::string_view chunk(data, size * n);
  if (t->request->on_body) {
    if (!t->request->on_body(chunk)) {
      t->stopped_by_caller = true;
      return 0;  // makes curl abort with CURLE_WRITE_ERROR
    }
    return chunk.size();
  }
  t->response->body.append(chunk);
  return chunk.size();
}

int OnProgress(void* user, curl_off_t, curl_off_t, curl_off_t, curl_off_t) {
  auto* t = static_cast<Transfer*>(user);
  return t->ctx->Check().ok() ? 0 : 1;
}

// Rewrites the host of `url` to `name`, returning the new URL and the "name:port:host:port"
// mapping that makes curl connect to the original host.
std::pair<std::string, std::string> OverrideHost(const std::string& url, const std::string& name) {
  auto scheme_end = url.find("://");
  if (scheme_end == std::string::npos) return {url, ""};
  auto host_begin = scheme_end + 3;
  auto host_end = url.find_first_of("/?", host_begin);
  if (host_end == std::string::npos) host_end = url.size();
  std::string authority = url.substr(host_begin, host_end - host_begin);
  std::string host = authority, port = url.compare(0, 5, "https") == 0 ? "443" : "80";
  auto colon = authority.rfind(':');
  if (colon != std::string::npos && authority.find(']', colon) == std::string::npos) {
    host = authority.substr(0, colon);
    port = authority.substr(colon + 1);
  }
  if (host.size() > 1 && host.front() == '[') host = host.substr(1, host.size() - 2);
  std::string rewritten = url.substr(0, host_begin) + name + ":" + port + url.substr(host_end);
  return {rewritten, name + ":" + port + ":" + host + ":" + port};
}

// The hosts that bypass an environment proxy: NO_PROXY's (or no_proxy's), and loopback always,
// as Go's net/http (and so kubectl) has it. "*" alone turns every proxy off.
std::string NoProxyList() {
  std::string list = "localhost,127.0.0.0/8,::1";
  for (const char* name : {"NO_PROXY", "no_proxy"}) {
    const char* value = std::getenv(name);
    if (value == nullptr || *value == '\0') continue;
    if (std::string_view(value) == "*") return "*";
    return std::string(value) + "," + list;
  }
  return list;
}

}  // namespace

struct Client::Impl {
  ClientOptions options;
  std::string no_proxy;  // CURLOPT_NOPROXY when options.proxy is empty
  std::mutex mu;
  std::vector<CURL*> idle;  // handles keep their connections alive between requests
  std::atomic<long> connections{0};

  ~Impl() {
    for (CURL* h : idle)
      curl_easy_cleanup(h);
  }

  CURL* Take() {
    std::lock_guard lock(mu);
    if (idle.empty()) return curl_easy_init();
    CURL* h = idle.back();
    idle.pop_back();
    curl_easy_reset(h);
    return h;
  }

  void Give(CURL* h) {
    std::lock_guard lock(mu);
    if (idle.size() < 16) {
      idle.push_back(h);
    } else {
      curl_easy_cleanup(h);
    }
  }

  void ApplyTls(CURL* h) {
    const TlsOptions& tls = options.tls;
    auto blob = [](const std::string& pem) {
      curl_blob b{};
      b.data = const_cast<char*>(pem.data());
      b.len = pem.size();
      b.flags = CURL_BLOB_COPY;
      return b;
    };
    if (!tls.ca_pem.empty()) {
      curl_blob b = blob(tls.ca_pem);
      curl_easy_setopt(h, CURLOPT_CAINFO_BLOB, &b);
    } else if (!tls.ca_file.empty()) {
      curl_easy_setopt(h, CURLOPT_CAINFO, tls.ca_file.c_str());
    }
    if (!tls.client_cert_pem.empty()) {
      curl_blob cert = blob(tls.client_cert_pem), key = blob(tls.client_key_pem);
      curl_easy_setopt(h, CURLOPT_SSLCERT_BLOB, &cert);
      curl_easy_setopt(h, CURLOPT_SSLCERTTYPE, "PEM");
      curl_easy_setopt(h, CURLOPT_SSLKEY_BLOB, &key);
      curl_easy_setopt(h, CURLOPT_SSLKEYTYPE, "PEM");
    }
    if (tls.insecure_skip_verify) {
      curl_easy_setopt(h, CURLOPT_SSL_VERIFYPEER, 0L);
      curl_easy_setopt(h, CURLOPT_SSL_VERIFYHOST, 0L);
    }
  }
};

std::string Response::Header(std::string_view name) const {
  for (const auto& [k, v] : headers) {
    if (k.size() == name.size() && strncasecmp(k.data(), name.data(), k.size()) == 0) return v;
  }
  return "";
}

Client::Client(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Client::~Client() = default;

Result<std::unique_ptr<Client>> Client::Create(ClientOptions options) {
  EnsureCurl();
  const TlsOptions& tls = options.tls;
  if (!tls.client_cert_pem.empty() && tls.client_key_pem.empty()) {
    return Status(Code::kInvalidArgument, "a client certificate was given without its key");
  }
  if (!tls.ca_pem.empty() && tls.ca_pem.find("-----BEGIN CERTIFICATE-----") == std::string::npos) {
    return Status(Code::kInvalidArgument, "certificate authority data holds no PEM certificate");
  }
  auto impl = std::make_unique<Impl>();
  impl->options = std::move(options);
  impl->no_proxy = NoProxyList();
  return std::unique_ptr<Client>(new Client(std::move(impl)));
}

long Client::connections_opened() const {
  return impl_->connections.load();
}

namespace {

Status MapCurlError(CURLcode rc, const char* detail, const std::string& url, const Context& ctx) {
  std::string host = HostOf(url);
  std::string why = detail[0] ? detail : curl_easy_strerror(rc);
  switch (rc) {
    case CURLE_ABORTED_BY_CALLBACK:
    case CURLE_OPERATION_TIMEDOUT:
      if (ctx.cancelled()) return Status(Code::kCancelled, "request to " + host + " cancelled");
      return Status(Code::kDeadlineExceeded, "request to " + host + " timed out");
    case CURLE_COULDNT_RESOLVE_HOST:
    case CURLE_COULDNT_RESOLVE_PROXY:
      return Status(Code::kUnavailable, "cannot resolve " + host + ": " + why);
    case CURLE_COULDNT_CONNECT:
      return Status(Code::kUnavailable, "cannot connect to " + host + ": " + why);
    case CURLE_PEER_FAILED_VERIFICATION:
    case CURLE_SSL_CACERT_BADFILE:
      return Status(Code::kUnavailable, "TLS verification of " + host + " failed: " + why);
    case CURLE_SSL_CERTPROBLEM:
      return Status(Code::kInvalidArgument, "client certificate for " + host + " unusable: " + why);
    default:
      return Status(Code::kUnavailable, "request to " + host + " failed: " + why);
  }
}

// The HTTP version curl negotiated for the last transfer on `h`.
std::string ProtocolOf(CURL* h) {
  long version = 0;
  curl_easy_getinfo(h, CURLINFO_HTTP_VERSION, &version);
  switch (version) {
    case CURL_HTTP_VERSION_1_0:
      return "HTTP/1.0";
    case CURL_HTTP_VERSION_1_1:
      return "HTTP/1.1";
    case CURL_HTTP_VERSION_2_0:
      return "HTTP/2";
    case CURL_HTTP_VERSION_3:
      return "HTTP/3";
    default:
      return "";
  }
}

}  // namespace

Result<Response> Client::Do(const Context& ctx, const Request& request) {
  AIC_RETURN_IF_ERROR(ctx.Check());
  Response response;
  Transfer transfer{&ctx, &request, &response};
  CURL* h = impl_->Take();
  if (h == nullptr) return Status(Code::kInternal, "curl_easy_init failed");

  std::string url = request.url, connect_to;
  if (!impl_->options.tls.server_name.empty()) {
    std::tie(url, connect_to) = OverrideHost(url, impl_->options.tls.server_name);
  }
  curl_slist* connect_list =
      connect_to.empty() ? nullptr : curl_slist_append(nullptr, connect_to.c_str());
  curl_slist* header_list = nullptr;
  for (const auto& [k, v] : request.headers) {
    header_list = curl_slist_append(header_list, (k + ": " + v).c_str());
  }
  header_list = curl_slist_append(header_list, "Expect:");
  char error[CURL_ERROR_SIZE] = {0};

  curl_easy_setopt(h, CURLOPT_URL, url.c_str());
  curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, request.method.c_str());
  if (request.method == "HEAD") curl_easy_setopt(h, CURLOPT_NOBODY, 1L);
  if (!request.body.empty() || request.method == "POST" || request.method == "PUT" ||
      request.method == "PATCH") {
    curl_easy_setopt(h, CURLOPT_POSTFIELDS, request.body.data());
    curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(request.body.size()));
  }
  curl_easy_setopt(h, CURLOPT_HTTPHEADER, header_list);
  if (connect_list) curl_easy_setopt(h, CURLOPT_CONNECT_TO, connect_list);
  curl_easy_setopt(h, CURLOPT_ERRORBUFFER, error);
  curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, OnHeader);
  curl_easy_setopt(h, CURLOPT_HEADERDATA, &transfer);
  curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, OnBody);
  curl_easy_setopt(h, CURLOPT_WRITEDATA, &transfer);
  curl_easy_setopt(h, CURLOPT_NOPROGRESS, 0L);
  curl_easy_setopt(h, CURLOPT_XFERINFOFUNCTION, OnProgress);
  curl_easy_setopt(h, CURLOPT_XFERINFODATA, &transfer);
  curl_easy_setopt(h, CURLOPT_ACCEPT_ENCODING, "");
  curl_easy_setopt(h, CURLOPT_TCP_KEEPALIVE, 1L);
  curl_easy_setopt(h, CURLOPT_HTTP_VERSION,
                   impl_->options.http2 ? CURL_HTTP_VERSION_2TLS : CURL_HTTP_VERSION_1_1);
  curl_easy_setopt(
      h, CURLOPT_CONNECTTIMEOUT_MS,
      static_cast<long>(std::min(impl_->options.connect_timeout, ctx.remaining()).count() + 1));
  if (ctx.deadline() != Clock::time_point::max()) {
    curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, static_cast<long>(ctx.remaining().count() + 1));
  }
  if (!impl_->options.proxy.empty()) {
    curl_easy_setopt(h, CURLOPT_PROXY, impl_->options.proxy.c_str());
  } else {
    // libcurl reads http_proxy, HTTPS_PROXY and ALL_PROXY itself; the list says who bypasses.
    curl_easy_setopt(h, CURLOPT_NOPROXY, impl_->no_proxy.c_str());
  }
  impl_->ApplyTls(h);

  CURLcode rc = curl_easy_perform(h);
  long status = 0, new_connections = 0;
  curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &status);
  curl_easy_getinfo(h, CURLINFO_NUM_CONNECTS, &new_connections);
  impl_->connections += new_connections;
  response.status = static_cast<int>(status);
  response.protocol = ProtocolOf(h);
  curl_slist_free_all(header_list);
  curl_slist_free_all(connect_list);

  if (rc != CURLE_OK && !(rc == CURLE_WRITE_ERROR && transfer.stopped_by_caller)) {
    // A broken connection must not go back to the pool.
    curl_easy_cleanup(h);
    return MapCurlError(rc, error, request.url, ctx);
  }
  impl_->Give(h);
  return response;
}

std::string HostOf(std::string_view url) {
  auto scheme_end = url.find("://");
  if (scheme_end != std::string_view::npos) url.remove_prefix(scheme_end + 3);
  auto end = url.find_first_of("/?");
  return std::string(url.substr(0, end));
}

std::string Escape(std::string_view value) {
  static const char* kHex = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : value) {
    if (isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~') {
      out.push_back(static_cast<char>(c));
    } else {
      out.push_back('%');
      out.push_back(kHex[c >> 4]);
      out.push_back(kHex[c & 15]);
    }
  }
  return out;
}

}  // namespace aic::http
