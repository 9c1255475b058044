// The client against a scripted server: what goes over the wire, retries, deadlines and
// credentials.
#include "kube/client.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <optional>
#include <thread>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "unit/kube/fake_server.h"
#include "unit/kube/temp_dir.h"

namespace aic::kube {
namespace {

using testing::FakeServer;
using ::testing::HasSubstr;
using ::testing::Not;

const ResourceInfo kConfigMaps{"", "v1", "configmaps", "ConfigMap", true};

std::unique_ptr<Client> ClientFor(const FakeServer& server, const std::string& token = "t0k3n") {
  RestConfig rc;
  rc.context = "test";
  rc.server = server.url();
  rc.token = token;
  ClientOptions options;
  options.backoff.initial = std::chrono::milliseconds(10);
  options.backoff.max = std::chrono::milliseconds(3000);
  return std::move(Client::Create(rc, options)).value();
}

std::string NotFoundBody() {
  return R"({"kind":"Status","status":"Failure","reason":"NotFound","code":404,)"
         R"("message":"configmaps \"x\" not found"})";
}

TEST(Client, GetSendsTokenAndMapsNotFound) {
  FakeServer server;
  server.Reply(404, NotFoundBody());
  auto got = ClientFor(server)->Get(Context(), kConfigMaps, "", "x");
  ASSERT_FALSE(got.ok());
  EXPECT_EQ(got.status().code(), Code::kNotFound);
  EXPECT_EQ(got.status().message(),
            "get configmaps \"x\" in namespace \"default\": "
            "configmaps \"x\" not found");
  ASSERT_EQ(server.requests().size(), 1u);
  EXPECT_EQ(server.requests()[0].target, "/api/v1/namespaces/default/configmaps/x");
  EXPECT_THAT(server.requests()[0].head, HasSubstr("Authorization: Bearer t0k3n"));
  EXPECT_THAT(got.status().message(), Not(HasSubstr("t0k3n")));
}

TEST(Client, ApplySendsApplyPatch) {
  FakeServer server;
  server.Reply(200, R"({"kind":"ConfigMap","metadata":{"name":"x"}})");
  json cm = {{"metadata", {{"name", "x"}, {"namespace", "team"}}}, {"data", {{"k", "v"}}}};
  auto applied = ClientFor(server)->Apply(Context(), kConfigMaps, "", cm, "aic-test", true);
  ASSERT_TRUE(applied.ok()) << applied.status().ToString();
  auto requests = server.requests();
  const auto& r = requests.at(0);
  EXPECT_EQ(r.method, "PATCH");
  EXPECT_EQ(r.target, "/api/v1/namespaces/team/configmaps/x?fieldManager=aic-test&force=true");
  EXPECT_THAT(r.head, HasSubstr("Content-Type: application/apply-patch+yaml"));
  EXPECT_EQ(json::parse(r.body)["kind"], "ConfigMap");
}

TEST(Client, DeleteSendsOptionsBody) {
  FakeServer server;
  server.Reply(200, R"({"kind":"Status","status":"Success"})");
  DeleteOptions o;
  o.propagation_policy = "Background";
  o.precondition_uid = "u1";
  ASSERT_TRUE(ClientFor(server)->Delete(Context(), kConfigMaps, "a", "x", o).ok());
  auto requests = server.requests();
  const auto& r = requests.at(0);
  EXPECT_EQ(r.method, "DELETE");
  EXPECT_EQ(json::parse(r.body)["preconditions"]["uid"], "u1");
}

TEST(Client, RetriesTooManyRequestsHonouringRetryAfter) {
  FakeServer server;
  server.Reply(429, R"({"kind":"Status","reason":"TooManyRequests","code":429})",
               "Retry-After: 1\r\n");
  server.Reply(503, "");
  server.Reply(200, R"({"kind":"ConfigMapList","items":[]})");
  auto start = Clock::now();
  auto list =
      ClientFor(server)->List(Context::WithTimeout(std::chrono::seconds(10)), kConfigMaps, "a");
  ASSERT_TRUE(list.ok()) << list.status().ToString();
  EXPECT_EQ(server.requests().size(), 3u);
  EXPECT_GE(Clock::now() - start, std::chrono::milliseconds(950));
}

TEST(Client, GivesUpWhenRetryAfterExceedsDeadline) {
  FakeServer server;
  server.Reply(429, R"({"kind":"Status","reason":"TooManyRequests","code":429})",
               "Retry-After: 3\r\n");
  auto start = Clock::now();
  auto got =
      ClientFor(server)->Get(Context::WithTimeout(std::chrono::seconds(1)), kConfigMaps, "a", "x");
  ASSERT_FALSE(got.ok());
  EXPECT_EQ(got.status().code(), Code::kTooManyRequests);
  EXPECT_LT(Clock::now() - start, std::chrono::milliseconds(900));
}

TEST(Client, DoesNotRetryConflicts) {
  FakeServer server;
  server.Reply(409, R"({"kind":"Status","reason":"AlreadyExists","code":409,"message":"exists"})");
  auto made =
      ClientFor(server)->Create(Context(), kConfigMaps, "a", {{"metadata", {{"name", "x"}}}});
  ASSERT_FALSE(made.ok());
  EXPECT_EQ(made.status().code(), Code::kAlreadyExists);
  EXPECT_EQ(server.requests().size(), 1u);
}

TEST(Client, WriteAnswered500IsNotRepeatedButOneTurnedAwayIs) {
  FakeServer server;
  server.Reply(500, R"({"kind":"Status","reason":"InternalError","code":500,"message":"etcd"})");
  auto client = ClientFor(server);
  json cm = {{"metadata", {{"name", "x"}}}};
  auto made = client->Create(Context(), kConfigMaps, "a", cm);
  EXPECT_EQ(made.status().code(), Code::kUnavailable);
  EXPECT_EQ(server.requests().size(), 1u);  // it may have been stored: not sent again

  server.Reply(503, "");
  server.Reply(500, R"({"kind":"Status","code":500})", "Retry-After: 1\r\n");
  server.Reply(201, R"({"kind":"ConfigMap","metadata":{"name":"x"}})");
  made = client->Create(Context::WithTimeout(std::chrono::seconds(10)), kConfigMaps, "a", cm);
  EXPECT_TRUE(made.ok()) << made.status().ToString();
  EXPECT_EQ(server.requests().size(), 4u);
}

TEST(Client, UnreachableServerNamesHost) {
  RestConfig rc;
  rc.server = "http://127.0.0.1:1";
  auto client = std::move(Client::Create(rc)).value();
  auto got =
      client->Get(Context::WithTimeout(std::chrono::milliseconds(500)), kConfigMaps, "a", "x");
  ASSERT_FALSE(got.ok());
  EXPECT_EQ(got.status().code(), Code::kUnavailable);
  EXPECT_THAT(got.status().message(), HasSubstr("get configmaps \"x\" in namespace \"a\": "));
  EXPECT_THAT(got.status().message(), HasSubstr("127.0.0.1:1"));
}

TEST(Client, ExecCredentialIsRefreshedAfterUnauthorized) {
  testing::TempDir dir;
  std::string script = "#!/bin/sh\nn=$(cat " + dir.path() + "/n 2>/dev/null || echo 0)\n" +
                       "n=$((n+1)); echo $n > " + dir.path() + "/n\n" +
                       "echo '{\"apiVersion\":\"client.authentication.k8s.io/v1\","
                       "\"kind\":\"ExecCredential\",\"status\":{\"token\":\"tok'$n'\"}}'\n";
  RestConfig rc;
  FakeServer server;
  rc.server = server.url();
  rc.exec = ExecConfig{"client.authentication.k8s.io/v1",
                       dir.Write("p.sh", script, 0755),
                       {},
                       {},
                       false,
                       "",
                       "test"};
  server.Reply(401, R"({"kind":"Status","reason":"Unauthorized","code":401})");
  server.Reply(200, R"({"kind":"ConfigMap"})");
  auto client = std::move(Client::Create(rc)).value();
  ASSERT_TRUE(client->Get(Context(), kConfigMaps, "a", "x").ok());
  auto reqs = server.requests();
  ASSERT_EQ(reqs.size(), 2u);
  EXPECT_THAT(reqs[0].head, HasSubstr("Bearer tok1"));
  EXPECT_THAT(reqs[1].head, HasSubstr("Bearer tok2"));
}

// A plugin that prints the token "tok<n>" on its n-th run.
ExecConfig CountingPlugin(const testing::TempDir& dir) {
  std::string script = "#!/bin/sh\nn=$(cat " + dir.path() + "/n 2>/dev/null || echo 0)\n" +
                       "n=$((n+1)); echo $n > " + dir.path() + "/n\n" +
                       "echo '{\"apiVersion\":\"client.authentication.k8s.io/v1\","
                       "\"kind\":\"ExecCredential\",\"status\":{\"token\":\"tok'$n'\"}}'\n";
  return ExecConfig{"client.authentication.k8s.io/v1",
                    dir.Write("p.sh", script, 0755),
                    {},
                    {},
                    false,
                    "",
                    "test"};
}

TEST(Client, WatchAsksTheExecPluginAgainAfterUnauthorized) {
  testing::TempDir dir;
  FakeServer server;
  server.Reply(401, R"({"kind":"Status","reason":"Unauthorized","code":401})");
  server.Reply(200, "{\"type\":\"ADDED\",\"object\":{\"metadata\":{\"name\":\"a\"}}}\n");
  RestConfig rc;
  rc.server = server.url();
  rc.exec = CountingPlugin(dir);
  auto client = std::move(Client::Create(rc)).value();
  Status s = client->Watch(Context::WithTimeout(std::chrono::seconds(10)), kConfigMaps, "a",
                           WatchOptions(), [](const WatchEvent&) { return false; });
  EXPECT_TRUE(s.ok()) << s.ToString();
  auto reqs = server.requests();
  ASSERT_EQ(reqs.size(), 2u);
  EXPECT_THAT(reqs[0].head, HasSubstr("Bearer tok1"));
  EXPECT_THAT(reqs[1].head, HasSubstr("Bearer tok2"));
}

TEST(Client, WatchParsesEventsAndStopsOnHandler) {
  FakeServer server;
  server.Reply(200,
               "{\"type\":\"ADDED\",\"object\":{\"metadata\":{\"name\":\"a\","
               "\"resourceVersion\":\"5\"}}}\n{\"type\":\"BOOKMARK\",\"object\":{\"metadata\":"
               "{\"resourceVersion\":\"9\"}}}\n{\"type\":\"MODIFIED\",\"object\":{}}\n");
  std::vector<WatchEvent::Type> types;
  bool stopped = false;
  std::string rv;
  WatchOptions o;
  o.resource_version = "1";
  Status s = ClientFor(server)->WatchOnce(
      Context(), kConfigMaps, "a", o,
      [&](const WatchEvent& e) {
        types.push_back(e.type);
        return types.size() < 2;
      },
      &stopped, &rv);
  EXPECT_TRUE(s.ok()) << s.ToString();
  EXPECT_TRUE(stopped);
  EXPECT_EQ(rv, "9");
  EXPECT_EQ(types, (std::vector{WatchEvent::Type::kAdded, WatchEvent::Type::kBookmark}));
  EXPECT_EQ(server.requests()[0].target,
            "/api/v1/namespaces/a/configmaps?watch=1&resourceVersion=1&allowWatchBookmarks=true");
}

TEST(Client, WatchErrorEventExpiredIsGone) {
  FakeServer server;
  server.Reply(200,
               "{\"type\":\"ERROR\",\"object\":{\"kind\":\"Status\",\"code\":410,"
               "\"reason\":\"Expired\",\"message\":\"too old resource version\"}}\n");
  Status s = ClientFor(server)->Watch(Context(), kConfigMaps, "a", WatchOptions(),
                                      [](const WatchEvent&) { return true; });
  EXPECT_EQ(s.code(), Code::kGone);
}

}  // namespace
}  // namespace aic::kube

namespace aic::kube {
namespace {

TEST(ListAndWatch, ListsAgainAfterGone) {
  FakeServer server;
  server.Reply(200, R"({"kind":"ConfigMapList","metadata":{"resourceVersion":"10"},
                        "items":[{"metadata":{"name":"a"}}]})");
  server.Reply(200,
               "{\"type\":\"ERROR\",\"object\":{\"kind\":\"Status\",\"code\":410,"
               "\"reason\":\"Expired\",\"message\":\"too old resource version\"}}\n");
  server.Reply(200, R"({"kind":"ConfigMapList","metadata":{"resourceVersion":"20"},
                        "items":[{"metadata":{"name":"a"}},{"metadata":{"name":"b"}}]})");
  server.Reply(200, "{\"type\":\"ADDED\",\"object\":{\"metadata\":{\"name\":\"c\"}}}\n");
  std::vector<size_t> syncs;
  std::vector<std::string> events;
  InformerHandlers handlers;
  handlers.on_sync = [&](const json& list) { syncs.push_back(list["items"].size()); };
  handlers.on_event = [&](const WatchEvent& e) {
    events.push_back(e.object["metadata"]["name"]);
    return false;
  };
  Status s = ListAndWatch(*ClientFor(server), Context(), kConfigMaps, "a", {}, handlers);
  EXPECT_TRUE(s.ok()) << s.ToString();
  EXPECT_EQ(syncs, (std::vector<size_t>{1, 2}));
  EXPECT_EQ(events, (std::vector<std::string>{"c"}));
  auto requests = server.requests();
  ASSERT_EQ(requests.size(), 4u);
  EXPECT_THAT(requests[1].target, HasSubstr("watch=1&resourceVersion=10"));
  EXPECT_THAT(requests[3].target, HasSubstr("watch=1&resourceVersion=20"));
}

TEST(Watch, ResumesFromLastVersionAfterServerCloses) {
  FakeServer server;
  server.Reply(200,
               "{\"type\":\"ADDED\",\"object\":{\"metadata\":{\"name\":\"a\","
               "\"resourceVersion\":\"11\"}}}\n");
  server.Reply(503, "");  // the server is restarting
  server.Reply(200,
               "{\"type\":\"ADDED\",\"object\":{\"metadata\":{\"name\":\"b\","
               "\"resourceVersion\":\"12\"}}}\n");
  std::vector<std::string> names;
  WatchOptions o;
  o.resource_version = "10";
  Status s = ClientFor(server)->Watch(Context::WithTimeout(std::chrono::seconds(10)), kConfigMaps,
                                      "a", o, [&](const WatchEvent& e) {
                                        names.push_back(e.object["metadata"]["name"]);
                                        return names.size() < 2;
                                      });
  EXPECT_TRUE(s.ok()) << s.ToString();
  EXPECT_EQ(names, (std::vector<std::string>{"a", "b"}));
  auto requests = server.requests();
  ASSERT_EQ(requests.size(), 3u);
  EXPECT_THAT(requests[1].target, HasSubstr("resourceVersion=11"));
  EXPECT_THAT(requests[2].target, HasSubstr("resourceVersion=11"));
}

}  // namespace
}  // namespace aic::kube

namespace aic::kube {
namespace {

TEST(Discovery, IsCachedAndRefreshedOnceForAnUnknownKind) {
  FakeServer server;
  server.Reply(200, R"({"kind":"APIGroupList","groups":[{"name":"apps","preferredVersion":
                        {"groupVersion":"apps/v1","version":"v1"}}]})");
  std::string core = R"({"kind":"APIResourceList","groupVersion":"v1","resources":[
      {"name":"configmaps","singularName":"configmap","namespaced":true,"kind":"ConfigMap",
       "shortNames":["cm"]},
      {"name":"namespaces","singularName":"namespace","namespaced":false,"kind":"Namespace"},
      {"name":"namespaces/status","namespaced":false,"kind":"Namespace"}]})";
  server.Reply(200, core);
  server.Reply(200, core);  // the refresh when a kind is not found
  auto client = ClientFor(server);

  auto by_short_name = client->Resource(Context(), "cm");
  ASSERT_TRUE(by_short_name.ok()) << by_short_name.status().ToString();
  EXPECT_EQ(by_short_name->resource, "configmaps");
  EXPECT_TRUE(by_short_name->namespaced);
  auto by_kind = client->Resource(Context(), GroupVersionKind{"", "v1", "Namespace"});
  ASSERT_TRUE(by_kind.ok()) << by_kind.status().ToString();
  EXPECT_FALSE(by_kind->namespaced);
  ASSERT_TRUE(client->Resource(Context(), "configmaps").ok());
  EXPECT_EQ(server.requests().size(), 2u);  // /apis and /api/v1, once each

  auto missing = client->Resource(Context(), GroupVersionKind{"", "v1", "Widget"});
  EXPECT_EQ(missing.status().code(), Code::kNotFound);
  auto requests = server.requests();
  ASSERT_EQ(requests.size(), 3u);
  EXPECT_EQ(requests[0].target, "/apis");
  EXPECT_EQ(requests[1].target, "/api/v1");
  EXPECT_EQ(requests[2].target, "/api/v1");
}

TEST(Client, ProxyUrlFromTheKubeconfigCarriesTheRequests) {
  FakeServer proxy;
  proxy.Reply(200, R"({"kind":"ConfigMap","metadata":{"name":"x"}})");
  testing::TempDir dir;
  std::string path = dir.Write("config",
                               "current-context: p\nclusters:\n- name: c\n  cluster:\n"
                               "    server: http://kube.invalid:6443\n    proxy-url: " +
                                   proxy.url() +
                                   "\nusers:\n- name: u\n  user: {token: via-proxy}\n"
                                   "contexts:\n- name: p\n  context: {cluster: c, user: u}\n");
  auto client = Client::FromKubeconfig(path);
  ASSERT_TRUE(client.ok()) << client.status().ToString();
  auto got = (*client)->Get(Context::WithTimeout(std::chrono::seconds(5)), kConfigMaps, "", "x");
  ASSERT_TRUE(got.ok()) << got.status().ToString();
  auto requests = proxy.requests();
  ASSERT_EQ(requests.size(), 1u);
  EXPECT_EQ(requests[0].target, "http://kube.invalid:6443/api/v1/namespaces/default/configmaps/x");
  EXPECT_THAT(requests[0].head, HasSubstr("Authorization: Bearer via-proxy"));
}

// Sets an environment variable for one scope and puts back what was there.
class ScopedEnv {
 public:
  ScopedEnv(const char* name, const std::string& value) : name_(name) {
    if (const char* old = std::getenv(name)) old_ = old;
    setenv(name, value.c_str(), 1);
  }
  ~ScopedEnv() { old_ ? (void)setenv(name_, old_->c_str(), 1) : (void)unsetenv(name_); }

 private:
  const char* name_;
  std::optional<std::string> old_;
};

std::unique_ptr<Client> ClientFor(testing::TempDir& dir, const std::string& server) {
  std::string path = dir.Write("config-" + std::to_string(std::hash<std::string>()(server)),
                               "current-context: p\nclusters:\n- name: c\n  cluster:\n"
                               "    server: " +
                                   server +
                                   "\nusers:\n- name: u\n  user: {token: t}\n"
                                   "contexts:\n- name: p\n  context: {cluster: c, user: u}\n");
  auto client = Client::FromKubeconfig(path);
  EXPECT_TRUE(client.ok()) << client.status().ToString();
  return client.ok() ? std::move(*client) : nullptr;
}

TEST(Client, EnvironmentProxyCarriesRequestsExceptToNoProxyHostsAndLoopback) {
  FakeServer proxy, direct;
  proxy.Reply(200, R"({"kind":"ConfigMap","metadata":{"name":"x"}})");
  direct.Reply(200, R"({"kind":"ConfigMap","metadata":{"name":"x"}})");
  ScopedEnv http_proxy("http_proxy", proxy.url());
  ScopedEnv no_proxy_upper("NO_PROXY", "");
  ScopedEnv no_proxy_lower("no_proxy", "");
  testing::TempDir dir;
  auto ctx = [] { return Context::WithTimeout(std::chrono::seconds(5)); };

  auto remote = ClientFor(dir, "http://kube.invalid:6443");
  ASSERT_NE(remote, nullptr);
  auto got = remote->Get(ctx(), kConfigMaps, "", "x");
  ASSERT_TRUE(got.ok()) << got.status().ToString();
  ASSERT_EQ(proxy.requests().size(), 1u);
  EXPECT_EQ(proxy.requests()[0].target,
            "http://kube.invalid:6443/api/v1/namespaces/default/configmaps/x");

  // Loopback never goes through a proxy, as with kubectl.
  auto local = ClientFor(dir, direct.url());
  ASSERT_NE(local, nullptr);
  ASSERT_TRUE(local->Get(ctx(), kConfigMaps, "", "x").ok());
  EXPECT_EQ(direct.requests().size(), 1u);
  EXPECT_EQ(proxy.requests().size(), 1u);

  // A host NO_PROXY names is reached directly, so here it cannot be resolved.
  ScopedEnv no_proxy("NO_PROXY", "example.com,kube.invalid");
  auto bypassing = ClientFor(dir, "http://kube.invalid:6443");
  ASSERT_NE(bypassing, nullptr);
  auto failed = bypassing->Get(ctx(), kConfigMaps, "", "x");
  ASSERT_FALSE(failed.ok());
  EXPECT_THAT(failed.status().message(), HasSubstr("kube.invalid"));
  EXPECT_EQ(proxy.requests().size(), 1u);
}

TEST(Client, ListAllStartsOverWithoutPagingWhenTheContinueTokenExpires) {
  FakeServer server;
  server.Reply(200, R"({"kind":"ConfigMapList","metadata":{"resourceVersion":"5",
                        "continue":"page-2"},"items":[{"metadata":{"name":"a"}}]})");
  server.Reply(410, R"({"kind":"Status","code":410,"reason":"Expired",
                        "message":"The provided continue parameter is too old"})");
  server.Reply(200, R"({"kind":"ConfigMapList","metadata":{"resourceVersion":"9"},
                        "items":[{"metadata":{"name":"a"}},{"metadata":{"name":"b"}},
                                 {"metadata":{"name":"c"}}]})");
  ListOptions options;
  options.label_selector = "app=x";
  options.limit = 1;
  auto all = ClientFor(server)->ListAll(Context(), kConfigMaps, "a", options);
  ASSERT_TRUE(all.ok()) << all.status().ToString();
  EXPECT_EQ((*all)["items"].size(), 3u);
  auto requests = server.requests();
  ASSERT_EQ(requests.size(), 3u);
  EXPECT_EQ(requests[0].target, "/api/v1/namespaces/a/configmaps?labelSelector=app%3Dx&limit=1");
  EXPECT_EQ(requests[1].target,
            "/api/v1/namespaces/a/configmaps?labelSelector=app%3Dx&limit=1&continue=page-2");
  EXPECT_EQ(requests[2].target, "/api/v1/namespaces/a/configmaps?labelSelector=app%3Dx");
}

TEST(Watch, BacksOffWhenTheServerEndsWatchesAtOnce) {
  FakeServer server;
  server.Reply(200, "");
  server.Reply(200, "");
  server.Reply(200, "{\"type\":\"ADDED\",\"object\":{\"metadata\":{\"name\":\"a\"}}}\n");
  RestConfig rc;
  rc.server = server.url();
  ClientOptions options;
  options.backoff.initial = std::chrono::milliseconds(200);
  auto client = std::move(Client::Create(rc, options)).value();
  auto start = Clock::now();
  Status s = client->Watch(Context::WithTimeout(std::chrono::seconds(10)), kConfigMaps, "a",
                           WatchOptions(), [](const WatchEvent&) { return false; });
  EXPECT_TRUE(s.ok()) << s.ToString();
  EXPECT_EQ(server.requests().size(), 3u);
  // Two backoffs of at least 100 ms and 200 ms (half the jittered caps of 200 and 400 ms).
  EXPECT_GE(Clock::now() - start, std::chrono::milliseconds(300));
}

TEST(Client, PlainHttpServerIsSpokenToInHttp1) {
  FakeServer server;  // offers no HTTP/2: the client must not insist on it
  server.Reply(200, R"({"major":"1"})");
  auto client = ClientFor(server);
  EXPECT_EQ(client->last_protocol(), "");
  ASSERT_TRUE(client->Raw(Context(), "GET", "/version").ok());
  EXPECT_EQ(client->last_protocol(), "HTTP/1.1");
}

}  // namespace
}  // namespace aic::kube

namespace aic::kube {
namespace {

// A port that accepts connections (the kernel completes them) but never answers.
class SilentServer {
 public:
  SilentServer() {
    int port = 0;
    fd_ = testing::ListenOnLoopback(&port);
    url_ = "http://127.0.0.1:" + std::to_string(port);
  }
  ~SilentServer() { close(fd_); }
  const std::string& url() const { return url_; }

 private:
  int fd_ = -1;
  std::string url_;
};

TEST(Client, CallWithoutDeadlineEndsAtTheDefaultTimeout) {
  SilentServer server;
  RestConfig rc;
  rc.server = server.url();
  ClientOptions options;
  options.default_timeout = std::chrono::milliseconds(300);
  auto client = std::move(Client::Create(rc, options)).value();
  auto start = Clock::now();
  auto got = client->Get(Context(), kConfigMaps, "a", "x");
  EXPECT_LT(Clock::now() - start, std::chrono::seconds(2));
  ASSERT_FALSE(got.ok());
  EXPECT_EQ(got.status().code(), Code::kDeadlineExceeded);
  EXPECT_THAT(got.status().message(), HasSubstr("get configmaps \"x\" in namespace \"a\""));
  EXPECT_THAT(got.status().message(), HasSubstr(http::HostOf(server.url())));
}

TEST(Client, CallIsCancelledFromAnotherThread) {
  SilentServer server;
  RestConfig rc;
  rc.server = server.url();
  auto client = std::move(Client::Create(rc)).value();
  Context ctx = Context::WithTimeout(std::chrono::seconds(20));
  std::thread canceller([&] {
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
    ctx.Cancel();
  });
  auto start = Clock::now();
  auto got = client->List(ctx, kConfigMaps, "a");
  auto took = Clock::now() - start;
  canceller.join();
  EXPECT_EQ(got.status().code(), Code::kCancelled) << got.status().ToString();
  EXPECT_LT(took, std::chrono::milliseconds(1500));
}

}  // namespace
}  // namespace aic::kube
