// The Kubernetes REST client: discovery, CRUD, patch and server-side apply, watch. Every call
// takes a Context (deadline, cancellation); failures come back as aic::Status (see errors.h).
// 429 and 5xx answers and refused connections are retried with backoff (or the server's
// Retry-After) while the call's deadline allows; writes answered 500 or 504 without
// Retry-After are not, since the server may have carried them out. Thread-safe.
#pragma once

#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>

#include "common/backoff.h"
#include "common/context.h"
#include "common/http.h"
#include "kube/exec_plugin.h"
#include "kube/kubeconfig.h"
#include "kube/resource.h"

namespace aic::kube {

struct WatchEvent {
  enum class Type { kAdded, kModified, kDeleted, kBookmark };
  Type type = Type::kAdded;
  json object;
};

// Returns false to end the watch.
using WatchHandler = std::function<bool(const WatchEvent&)>;

struct ClientOptions {
  // Applied to calls whose context has no deadline (watches excepted).
  std::chrono::milliseconds default_timeout{30000};
  BackoffPolicy backoff;
  std::string user_agent = "aiconform";
  bool http2 = true;
};

class Client {
 public:
  static Result<std::unique_ptr<Client>> Create(RestConfig config, ClientOptions options = {});
  // Loads the kubeconfig as kubectl would (explicit path, else KUBECONFIG, else
  // ~/.kube/config) and resolves `context` ("" for the current one).
  static Result<std::unique_ptr<Client>> FromKubeconfig(const std::string& path = "",
                                                        const std::string& context = "",
                                                        ClientOptions options = {});
  ~Client();

  // The namespace of the kubeconfig context ("default" when it names none).
  const std::string& default_namespace() const { return config_.ns; }
  const std::string& server() const { return config_.server; }
  long connections_opened() const;
  // The HTTP version of the most recent answer ("HTTP/2" from an API server over TLS unless
  // ClientOptions::http2 is off), "" before the first one.
  std::string last_protocol() const;

  // Discovery, cached per group-version. A kind missing from a cached group-version is looked
  // up once more in case it was just added (a new CRD).
  Result<ResourceInfo> Resource(const Context& ctx, const GroupVersionKind& gvk);
  // By name as kubectl accepts it: "configmaps", "cm", "deployments.apps", "ConfigMap".
  Result<ResourceInfo> Resource(const Context& ctx, std::string_view name);
  // The resource of an object from its apiVersion and kind.
  Result<ResourceInfo> ResourceFor(const Context& ctx, const json& object);
  void InvalidateDiscovery();

  Result<json> Get(const Context& ctx, const ResourceInfo& res, std::string_view ns,
                   std::string_view name);
  // One page. The result's metadata.continue is set when more pages remain.
  Result<json> List(const Context& ctx, const ResourceInfo& res, std::string_view ns,
                    const ListOptions& options = {});
  // Every page (options.limit per page, 500 when 0) joined into one list whose
  // metadata.resourceVersion is that of the first page, as a consistent snapshot.
  Result<json> ListAll(const Context& ctx, const ResourceInfo& res, std::string_view ns,
                       ListOptions options = {});
  // `ns` "" takes metadata.namespace of the object, else the default namespace.
  Result<json> Create(const Context& ctx, const ResourceInfo& res, std::string_view ns,
                      const json& object);
  // Replaces the object; metadata.resourceVersion, when set, makes it conditional (409).
  Result<json> Update(const Context& ctx, const ResourceInfo& res, std::string_view ns,
                      const json& object, std::string_view subresource = "");
  Result<json> Patch(const Context& ctx, const ResourceInfo& res, std::string_view ns,
                     std::string_view name, PatchType type, const json& patch,
                     const PatchOptions& options = {});
  // Server-side apply of `object` (a partial object with the fields this manager owns).
  // Conflicts with other managers give kConflict unless `force`.
  Result<json> Apply(const Context& ctx, const ResourceInfo& res, std::string_view ns,
                     const json& object, const std::string& field_manager, bool force = false);
  // Returns what the server answered: the object (while finalizers run) or a Status.
  Result<json> Delete(const Context& ctx, const ResourceInfo& res, std::string_view ns,
                      std::string_view name, const DeleteOptions& options = {});
  // POST to a subresource, e.g. serviceaccounts/<name>/token with a TokenRequest.
  Result<json> CreateSubresource(const Context& ctx, const ResourceInfo& res, std::string_view ns,
                                 std::string_view name, std::string_view subresource,
                                 const json& body);
  // Any call by path ("/version", "/apis/...?x=y"), for what the helpers above do not cover.
  Result<json> Raw(const Context& ctx, const std::string& method, const std::string& path,
                   const std::string& body = "", const std::string& content_type = "");

  // One watch request from options.resource_version. Ends Ok when the server closes the
  // stream or `handler` returns false (*stopped tells which); kGone when the version is too
  // old; the context's status when it ends. Not retried.
  Status WatchOnce(const Context& ctx, const ResourceInfo& res, std::string_view ns,
                   const WatchOptions& options, const WatchHandler& handler,
                   bool* stopped = nullptr, std::string* last_resource_version = nullptr);
  // Watches until the handler returns false (Ok) or the context ends, reconnecting after a
  // dropped or closed connection from the last resourceVersion seen (bookmarks included).
  // Returns kGone when that version has expired: the caller must list again.
  Status Watch(const Context& ctx, const ResourceInfo& res, std::string_view ns,
               WatchOptions options, const WatchHandler& handler);

 private:
  // One API call. `what` names it in errors: "get configmaps \"x\" in namespace \"y\"".
  struct Call {
    Call(std::string m, std::string p, std::string b, std::string type, std::string w)
        : method(std::move(m)),
          path(std::move(p)),
          body(std::move(b)),
          content_type(std::move(type)),
          what(std::move(w)) {}
    std::string method;
    std::string path;  // with the query string
    std::string body;
    std::string content_type;
    std::string what;
    std::function<bool(std::string_view)> on_body;  // set for a streaming watch
  };
  Client(RestConfig config, ClientOptions options);
  Result<http::Response> Send(const Context& ctx, const Call& call);
  Result<http::Response> SendOnce(const Context& ctx, const Call& call);
  Result<json> SendJson(const Context& ctx, const Call& call);
  Status Authorize(const Context& ctx, http::Request* request);
  Result<std::shared_ptr<http::Client>> Transport(const Credential* cred);
  struct Discovered;
  Result<std::vector<Discovered>> GroupVersionResources(const Context& ctx,
                                                        const std::string& group_version,
                                                        bool refresh);
  Result<std::map<std::string, std::string>> PreferredVersions(const Context& ctx, bool refresh);
  Result<ResourceInfo> FindByName(const Context& ctx, const std::string& group_version,
                                  const std::string& name);
  std::string NamespaceFor(const ResourceInfo& res, std::string_view ns, const json& obj) const;

  RestConfig config_;
  ClientOptions options_;
  std::unique_ptr<ExecPlugin> exec_;

  mutable std::mutex mu_;  // guards the fields below
  std::shared_ptr<http::Client> http_;
  std::string http_cert_;  // the client certificate http_ was built with
  long retired_connections_ = 0;
  std::string protocol_;
  std::string file_token_;
  Clock::time_point file_token_read_{};
  struct Discovered {
    ResourceInfo info;
    std::vector<std::string> names;  // plural, singular, short names, kind; lower case
  };
  std::map<std::string, std::vector<Discovered>> discovery_;  // by group-version
  std::map<std::string, std::string> preferred_;              // group -> version
};

// Informer-like helper: lists, calls on_sync with the list (every item, sorted as the server
// sent them), then watches from the list's resourceVersion passing each event to on_event,
// resuming after dropped connections. After 410 Gone it lists again and calls on_sync with the
// fresh state, which replaces everything seen before. Returns Ok when on_event returns false,
// else the failure or the context's status. `watch_timeout_seconds` > 0 asks the server to end
// each watch request that soon (it is then resumed).
struct InformerHandlers {
  std::function<void(const json& list)> on_sync;
  WatchHandler on_event;
};
Status ListAndWatch(Client& client, const Context& ctx, const ResourceInfo& res,
                    std::string_view ns, const ListOptions& selectors,
                    const InformerHandlers& handlers, int watch_timeout_seconds = 0);

}  // namespace aic::kube
