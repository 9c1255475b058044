// A small HTTP(S) client over libcurl shared by the Kubernetes and Azure clients. It reuses
// connections, speaks HTTP/2 where the server offers it, streams bodies for watches, and maps
// every transport failure into a Status that names the host. It never retries: retry policy
// belongs to the API clients above it.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/context.h"
#include "common/status.h"

namespace aic::http {

struct TlsOptions {
  std::string ca_pem;   // PEM certificates to trust; when empty, ca_file or the system roots
  std::string ca_file;  // a file of PEM certificates to trust
  std::string client_cert_pem;
  std::string client_key_pem;  // never logged
  bool insecure_skip_verify = false;
  // Verify the server's certificate (and send SNI) for this name instead of the URL's host.
  std::string server_name;
};

struct ClientOptions {
  TlsOptions tls;
  // http://, https:// or socks5:// proxy URL. Empty: the environment's proxies as kubectl and
  // the Azure CLI use them (http_proxy, HTTPS_PROXY, ALL_PROXY, except the hosts NO_PROXY names
  // and loopback addresses, which never go through a proxy).
  std::string proxy;
  bool http2 = true;
  std::chrono::milliseconds connect_timeout{10000};
};

using Headers = std::vector<std::pair<std::string, std::string>>;

struct Request {
  std::string method = "GET";
  std::string url;
  Headers headers;
  std::string body;
  // When set, each chunk of the response body is passed here as it arrives instead of being
  // collected in Response::body. Returning false ends the transfer: Do() then returns Ok with
  // the status and headers received so far.
  std::function<bool(std::string_view)> on_body;
};

// A GET request for `url` with no extra headers.
inline Request Get(std::string url) {
  Request r;
  r.url = std::move(url);
  return r;
}

struct Response {
  int status = 0;
  Headers headers;
  std::string body;
  // The protocol the answer came over: "HTTP/1.1", "HTTP/2", ... ("" when unknown).
  std::string protocol;

  // The value of the first header named `name` (case-insensitive), or "".
  std::string Header(std::string_view name) const;
};

class Client {
 public:
  // Fails when the TLS material cannot be used (for example a malformed PEM block).
  static Result<std::unique_ptr<Client>> Create(ClientOptions options);
  ~Client();
  Client(const Client&) = delete;
  Client& operator=(const Client&) = delete;

  // Sends one request and waits for the whole answer (or the end of the stream), until the
  // context's deadline or cancellation. HTTP error statuses are not errors here.
  Result<Response> Do(const Context& ctx, const Request& request);

  // Number of TCP connections opened so far; tests use it to prove connections are reused.
  long connections_opened() const;

 private:
  struct Impl;
  explicit Client(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

// The host[:port] part of a URL, for error messages.
std::string HostOf(std::string_view url);

// Percent-encodes `value` for use in a URL query or path segment.
std::string Escape(std::string_view value);

}  // namespace aic::http
