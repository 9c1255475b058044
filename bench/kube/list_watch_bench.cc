// List-and-decode and watch throughput of the kube client against a real API server.
//
//   list_watch_bench --setup=10000          create the ConfigMaps (idempotent)
//   list_watch_bench --once=list|watch      one list or one watch of them, then exit, for a
//                                           process-level comparison with kubectl
//   list_watch_bench [benchmark flags]      Google Benchmark runs
//
// The cluster comes from AIC_BENCH_KUBECONFIG (else KUBECONFIG, else ~/.kube/config); the
// namespace from AIC_BENCH_NAMESPACE (default aic-bench).
#include <atomic>
#include <cstdlib>
#include <cstring>
#include <iostream>
#include <thread>

#include <benchmark/benchmark.h>

#include "kube/client.h"

namespace aic::kube {
namespace {

using namespace std::chrono_literals;

std::string Env(const char* name, const char* fallback) {
  const char* v = std::getenv(name);
  return v && *v ? v : fallback;
}

std::string Namespace() {
  return Env("AIC_BENCH_NAMESPACE", "aic-bench");
}

std::unique_ptr<Client> Connect() {
  auto client = Client::FromKubeconfig(Env("AIC_BENCH_KUBECONFIG", ""));
  if (!client.ok()) {
    std::cerr << "list_watch_bench: " << client.status().ToString() << "\n";
    std::exit(1);
  }
  return std::move(client).value();
}

const ResourceInfo kConfigMaps{"", "v1", "configmaps", "ConfigMap", true};
const char kSelector[] = "aiconform.dev/bench=list-watch";

// A ConfigMap of about 400 bytes of JSON, like a small application config.
json BenchConfigMap(int i) {
  json data;
  for (int k = 0; k < 4; ++k) {
    data[fmt::format("key-{}", k)] = fmt::format("value-{}-{}-{}", i, k, std::string(40, 'x'));
  }
  return {{"metadata",
           {{"name", fmt::format("bench-{:05}", i)},
            {"labels", {{"aiconform.dev/bench", "list-watch"}, {"index", std::to_string(i)}}}}},
          {"data", data}};
}

int Setup(int count) {
  auto client = Connect();
  auto namespaces = *client->Resource(Context::WithTimeout(30s), "namespaces");
  (void)client->Apply(Context::WithTimeout(30s), namespaces, "",
                      {{"metadata", {{"name", Namespace()}}}}, "aic-bench");
  std::atomic<int> next{0}, failed{0};
  std::vector<std::thread> workers;
  for (int w = 0; w < 8; ++w) {
    workers.emplace_back([&] {
      for (int i; (i = next++) < count;) {
        auto made =
            client->Create(Context::WithTimeout(60s), kConfigMaps, Namespace(), BenchConfigMap(i));
        if (!made.ok() && made.status().code() != Code::kAlreadyExists) ++failed;
      }
    });
  }
  for (auto& w : workers)
    w.join();
  std::cerr << "list_watch_bench: " << count << " ConfigMaps in namespace " << Namespace() << ", "
            << failed.load() << " failed\n";
  return failed.load() == 0 ? 0 : 1;
}

// Lists every bench ConfigMap in pages of 500 (kubectl's default chunk size); returns the
// number of items decoded.
size_t ListOnce(Client& client) {
  ListOptions o;
  o.label_selector = kSelector;
  o.limit = 500;
  auto all = client.ListAll(Context::WithTimeout(120s), kConfigMaps, Namespace(), o);
  if (!all.ok()) {
    std::cerr << "list_watch_bench: " << all.status().ToString() << "\n";
    std::exit(1);
  }
  return (*all)["items"].size();
}

// Watches from resourceVersion 0, which makes the server send every existing object as an
// ADDED event, until `expected` events arrived; returns how many arrived.
size_t WatchOnce(Client& client, size_t expected) {
  WatchOptions o;
  o.label_selector = kSelector;
  o.resource_version = "0";
  o.allow_bookmarks = false;
  size_t events = 0;
  Status s = client.Watch(Context::WithTimeout(120s), kConfigMaps, Namespace(), o,
                          [&](const WatchEvent& e) {
                            benchmark::DoNotOptimize(e.object["metadata"]["name"]);
                            return ++events < expected;
                          });
  if (!s.ok()) std::cerr << "list_watch_bench: " << s.ToString() << "\n";
  return events;
}

size_t CountObjects() {
  static size_t count = [] {
    auto client = Connect();
    return ListOnce(*client);
  }();
  return count;
}

void BM_ListAndDecode(benchmark::State& state) {
  auto client = Connect();
  size_t items = 0;
  for (auto _ : state)
    items = ListOnce(*client);
  state.counters["objects"] = static_cast<double>(items);
  state.SetItemsProcessed(static_cast<int64_t>(items * state.iterations()));
}
BENCHMARK(BM_ListAndDecode)->Unit(benchmark::kMillisecond)->UseRealTime();

void BM_WatchEvents(benchmark::State& state) {
  auto client = Connect();
  size_t expected = CountObjects(), events = 0;
  for (auto _ : state)
    events = WatchOnce(*client, expected);
  state.counters["events"] = static_cast<double>(events);
  state.SetItemsProcessed(static_cast<int64_t>(events * state.iterations()));
}
BENCHMARK(BM_WatchEvents)->Unit(benchmark::kMillisecond)->UseRealTime();

}  // namespace
}  // namespace aic::kube

int main(int argc, char** argv) {
  using namespace aic::kube;
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    if (arg.rfind("--setup=", 0) == 0) return Setup(std::atoi(arg.c_str() + 8));
    if (arg == "--once=list") {
      auto client = Connect();
      std::cout << ListOnce(*client) << " objects listed\n";
      return 0;
    }
    if (arg.rfind("--once=watch:", 0) == 0) {
      auto client = Connect();
      size_t expected = std::strtoul(arg.c_str() + 13, nullptr, 10);
      std::cout << WatchOnce(*client, expected) << " events\n";
      return 0;
    }
  }
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
