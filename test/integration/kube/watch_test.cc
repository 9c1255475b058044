// Watches against a real API server: bookmarks, resuming across an apiserver restart,
// re-listing after 410 Gone, and cancellation.
#include <atomic>
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

// Collects what a watch saw, shared with the thread that runs it.
struct Seen {
  std::mutex mu;
  std::multiset<std::string> added;  // a duplicate would show a replayed event
  int bookmarks = 0;

  bool Record(const WatchEvent& e) {
    std::lock_guard lock(mu);
    if (e.type == WatchEvent::Type::kBookmark) ++bookmarks;
    if (e.type == WatchEvent::Type::kAdded) added.insert(e.object["metadata"]["name"]);
    return true;
  }
  bool WaitFor(size_t count, std::chrono::seconds timeout) {
    auto until = Clock::now() + timeout;
    while (Clock::now() < until) {
      {
        std::lock_guard lock(mu);
        if (added.size() >= count) return true;
      }
      std::this_thread::sleep_for(50ms);
    }
    return false;
  }
};

TEST(KubeWatch, ResumesWithBookmarksAfterApiserverRestart) {
  auto client = AdminClient();
  TestNamespace ns(*client, "aic-watch");
  auto cms = *client->Resource(Deadline(), "configmaps");
  auto list = client->List(Deadline(), cms, ns.name());
  ASSERT_TRUE(list.ok());

  Seen seen;
  Context watch_ctx = Context::WithTimeout(120s);
  WatchOptions options;
  options.resource_version = (*list)["metadata"]["resourceVersion"];
  options.timeout_seconds = 5;  // the server closes the watch often; bookmarks come first
  Status watch_status;
  std::thread watcher([&] {
    watch_status = client->Watch(watch_ctx, cms, ns.name(), options,
                                 [&](const WatchEvent& e) { return seen.Record(e); });
  });

  ASSERT_TRUE(client->Create(Deadline(), cms, ns.name(), ConfigMap("before")).ok());
  ASSERT_TRUE(seen.WaitFor(1, 20s));
  Status restarted = testing::RestartApiserver();
  ASSERT_TRUE(restarted.ok()) << restarted.ToString();
  ASSERT_TRUE(client->Create(Deadline(60), cms, ns.name(), ConfigMap("after")).ok());
  EXPECT_TRUE(seen.WaitFor(2, 30s));
  std::this_thread::sleep_for(6s);  // one more server-side timeout: a bookmark comes before it

  watch_ctx.Cancel();
  watcher.join();
  EXPECT_EQ(watch_status.code(), Code::kCancelled) << watch_status.ToString();
  std::lock_guard lock(seen.mu);
  EXPECT_EQ(seen.added, (std::multiset<std::string>{"after", "before"}));
  EXPECT_GE(seen.bookmarks, 1);
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
