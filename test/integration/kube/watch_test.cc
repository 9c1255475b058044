// Watches against a real API server: bookmarks, resuming across an apiserver restart,
// re-listing after 410 Gone, and cancellation.
#include <atomic>
#include <map>
#include <mutex>
#include <set>
#include <thread>

#include <gtest/gtest.h>

#include "integration/kube/cluster.h"

namespace aic::kube {
namespace {

using namespace std::chrono_literals;
using testing::AdminClient;
using testing::Deadline;
using testing::TestNamespace;

json ConfigMap(const std::string& name) {
  return {{"apiVersion", "v1"}, {"kind", "ConfigMap"}, {"metadata", {{"name", name}}}};
}

// The state an informer builds from its syncs and events, shared with the test thread.
struct Seen {
  std::mutex mu;
  std::map<std::string, int> added;  // name -> ADDED events; more than one is a replay
  std::set<std::string> present;
  int syncs = 0;
  int bookmarks = 0;

  void Sync(const json& list) {
    std::lock_guard lock(mu);
    ++syncs;
    present.clear();
    for (const auto& item : list["items"])
      present.insert(item["metadata"]["name"]);
  }
  bool Event(const WatchEvent& e) {
    std::lock_guard lock(mu);
    std::string name = e.object["metadata"].value("name", "");
    if (e.type == WatchEvent::Type::kBookmark) ++bookmarks;
    if (e.type == WatchEvent::Type::kAdded) ++added[name];
    if (e.type == WatchEvent::Type::kAdded) present.insert(name);
    if (e.type == WatchEvent::Type::kDeleted) present.erase(name);
    return true;
  }
  bool WaitFor(const std::string& name, std::chrono::seconds timeout) {
    return WaitUntil(timeout, [&] { return present.count(name) > 0; });
  }
  bool WaitForBookmark(std::chrono::seconds timeout) {
    return WaitUntil(timeout, [&] { return bookmarks > 0; });
  }
  template <typename Pred>
  bool WaitUntil(std::chrono::seconds timeout, Pred pred) {
    for (auto until = Clock::now() + timeout; Clock::now() < until;) {
      {
        std::lock_guard lock(mu);
        if (pred()) return true;
      }
      std::this_thread::sleep_for(50ms);
    }
    return false;
  }
};

// Runs ListAndWatch on a thread until the guard is destroyed.
class InformerThread {
 public:
  InformerThread(Client& client, const ResourceInfo& res, const std::string& ns, Seen& seen)
      : ctx_(Context::WithTimeout(180s)) {
    thread_ = std::thread([&client, res, ns, &seen, this] {
      InformerHandlers h;
      h.on_sync = [&seen](const json& list) { seen.Sync(list); };
      h.on_event = [&seen](const WatchEvent& e) { return seen.Event(e); };
      ListOptions selector;
      selector.label_selector = "app=watch-test";
      // A short server-side timeout makes the server end the watch (with a bookmark just
      // before) every few seconds, so resuming is exercised even without the restart.
      status_ = ListAndWatch(client, ctx_, res, ns, selector, h, /*watch_timeout_seconds=*/5);
    });
  }
  ~InformerThread() { (void)Stop(); }
  Status Stop() {
    ctx_.Cancel();
    if (thread_.joinable()) thread_.join();
    return status_;
  }

 private:
  Context ctx_;
  std::thread thread_;
  Status status_;
};

json Labelled(const std::string& name) {
  json cm = ConfigMap(name);
  cm["metadata"]["labels"] = {{"app", "watch-test"}};
  return cm;
}

// After the restart the server either resumes the watch from the last resourceVersion seen,
// or, when its fresh watch cache starts later, answers 410 Gone and the informer lists again.
// Either way no event is lost and none is replayed by a resumed watch.
TEST(KubeWatch, ResumesWithBookmarksAfterApiserverRestart) {
  auto client = AdminClient();
  TestNamespace ns(*client, "aic-watch");
  auto cms = *client->Resource(Deadline(), "configmaps");
  Seen seen;
  InformerThread informer(*client, cms, ns.name(), seen);

  ASSERT_TRUE(client->Create(Deadline(), cms, ns.name(), Labelled("before")).ok());
  ASSERT_TRUE(seen.WaitFor("before", 20s));
  // A change the selector filters out moves the server's resourceVersion past the last one the
  // watch saw; the server then reports it in a bookmark before it ends the 5 s watch request.
  ASSERT_TRUE(client->Create(Deadline(), cms, ns.name(), ConfigMap("unlabelled")).ok());
  EXPECT_TRUE(seen.WaitForBookmark(20s));
  Status restarted = testing::RestartApiserver();
  ASSERT_TRUE(restarted.ok()) << restarted.ToString();
  ASSERT_TRUE(client->Create(Deadline(60), cms, ns.name(), Labelled("after")).ok());
  EXPECT_TRUE(seen.WaitFor("after", 30s));

  Status stopped = informer.Stop();
  EXPECT_EQ(stopped.code(), Code::kCancelled) << stopped.ToString();
  std::lock_guard lock(seen.mu);
  EXPECT_EQ(seen.present, (std::set<std::string>{"after", "before"}));
  EXPECT_EQ(seen.added["after"], 1);
  EXPECT_GE(seen.syncs, 1);
  EXPECT_LE(seen.syncs, 2);
}

TEST(KubeWatch, InformerListsThenWatches) {
  auto client = AdminClient();
  TestNamespace ns(*client, "aic-informer");
  auto cms = *client->Resource(Deadline(), "configmaps");
  json existing = ConfigMap("existing");
  existing["metadata"]["labels"] = {{"app", "informer"}};
  ASSERT_TRUE(client->Create(Deadline(), cms, ns.name(), existing).ok());

  std::atomic<int> syncs{0};
  size_t synced_items = 0;
  InformerHandlers handlers;
  handlers.on_sync = [&](const json& l) {
    synced_items = l["items"].size();
    ++syncs;
  };
  handlers.on_event = [&](const WatchEvent& e) {
    return !(e.type == WatchEvent::Type::kAdded && e.object["metadata"]["name"] == "late");
  };
  std::thread creator([&] {
    while (syncs.load() == 0)
      std::this_thread::sleep_for(10ms);
    json late = ConfigMap("late");
    late["metadata"]["labels"] = {{"app", "informer"}};
    (void)client->Create(Deadline(), cms, ns.name(), late);
  });
  ListOptions selector;
  selector.label_selector = "app=informer";
  Status informed = ListAndWatch(*client, Deadline(), cms, ns.name(), selector, handlers);
  creator.join();
  EXPECT_TRUE(informed.ok()) << informed.ToString();
  EXPECT_EQ(syncs.load(), 1);
  EXPECT_EQ(synced_items, 1u);
}

TEST(KubeWatch, CancelFromAnotherThreadReturnsPromptly) {
  auto client = AdminClient();
  auto cms = *client->Resource(Deadline(), "configmaps");
  Context ctx;  // no deadline: only the cancellation ends it
  std::thread canceller([&] {
    std::this_thread::sleep_for(1s);
    ctx.Cancel();
  });
  auto start = Clock::now();
  Status s = client->Watch(ctx, cms, "kube-system", WatchOptions(),
                           [](const WatchEvent&) { return true; });
  auto took = Clock::now() - start;
  canceller.join();
  EXPECT_EQ(s.code(), Code::kCancelled) << s.ToString();
  EXPECT_LT(took, 2500ms);
}

}  // namespace
}  // namespace aic::kube
