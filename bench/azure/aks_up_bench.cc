// `up` against the ARM emulator with operation latencies in Azure's proportions (a cluster takes
// ten units, a node pool five, a feature registration three, the provider and the workspace one,
// the monitoring resources a fraction), scaled down. Reports up's wall time against the critical
// path of the dependency graph and against the same steps run one after another. `up` reads
// and writes in one pass (PlanAndApply), so "fixed" is the time before the first write starts.
//
//   aks_up_bench [seconds-per-unit=0.2] [runs=3]
#include <cstdlib>
#include <iostream>
#include <map>
#include <mutex>

#include <fmt/format.h>

#include "azure/engine.h"
#include "emulator_process.h"

namespace aic::azure {
namespace {

using std::chrono::milliseconds;

// The emulator's latency of each step, in units (see TYPES in arm_emulator.py).
double Units(const std::string& key) {
  if (key == "cluster") return 10;
  if (key.rfind("pool/", 0) == 0) return 5;
  if (key.rfind("feature/", 0) == 0) return 3;
  if (key == "provider" || key == "workspace") return 1;
  if (key == "dce" || key == "dcr") return 0.2;
  if (key == "dcra" || key == "dcea") return 0.1;
  if (key.rfind("rules/", 0) == 0) return 0.3;
  return 0;  // the resource group is synchronous
}

struct Run {
  milliseconds wall{0};
  milliseconds fixed{0};              // from the start to the first write (token, first reads)
  milliseconds measured_critical{0};  // critical path over the steps' measured durations
  std::map<std::string, milliseconds> steps;
};

Result<Run> UpOnce(double scale, int parallelism, milliseconds* model_critical) {
  AIC_ASSIGN_OR_RETURN(auto emu, testing::EmulatorProcess::Start(scale));
  for (const auto& [k, v] : emu->SecretEnv())
    setenv(k.c_str(), v.c_str(), 1);
  auto spec = *LoadSpec(AIC_SOURCE_DIR "/examples/aks-ai-conformant.yaml");
  const std::string subscription = "11111111-2222-3333-4444-555555555555";
  auto resources = BuildResources(spec, subscription);
  auto owned = OwnedCollections(spec, subscription);

  Run run;
  auto start = Clock::now();
  auto ctx = Context::WithTimeout(std::chrono::minutes(10));
  http::TlsOptions tls;
  tls.ca_file = emu->ca_file();
  AIC_ASSIGN_OR_RETURN(auto tokens, MakeTokenSource(ctx, {"env", tls}));
  ArmOptions opts;
  opts.endpoint = emu->endpoint();
  opts.tls = tls;
  opts.poll_interval = milliseconds(10);
  AIC_ASSIGN_OR_RETURN(auto arm, ArmClient::Create(opts, std::move(tokens)));
  std::mutex mu;
  ApplyOptions apply;
  apply.parallelism = parallelism;
  apply.poll_interval = milliseconds(10);
  apply.on_event = [&](const ApplyEvent& e) {
    std::lock_guard lock(mu);
    if (e.what == "start" && run.fixed.count() == 0) {
      run.fixed = std::chrono::duration_cast<milliseconds>(Clock::now() - start);
    }
    if (e.what == "done") run.steps[e.key] = e.elapsed;
  };
  // As `up` runs it: the reads, the lists of owned collections and the writes in one pass.
  AIC_ASSIGN_OR_RETURN(auto changes, PlanAndApply(ctx, *arm, resources, owned, apply));
  run.wall = std::chrono::duration_cast<milliseconds>(Clock::now() - start);
  run.measured_critical = CriticalPath(changes, [&](const std::string& k) { return run.steps[k]; });
  *model_critical = CriticalPath(changes, [&](const std::string& k) {
    return milliseconds(static_cast<long>(Units(k) * scale * 1000));
  });
  return run;
}

int Main(int argc, char** argv) {
  double scale = argc > 1 ? std::atof(argv[1]) : 0.2;
  int runs = argc > 2 ? std::atoi(argv[2]) : 3;
  std::cout << fmt::format("aks up against the ARM emulator, {} s per latency unit, {} runs\n",
                           scale, runs);
  std::cout << fmt::format("{:<4} {:>10} {:>9} {:>14} {:>16} {:>9} {:>14} {:>9}\n", "run",
                           "wall ms", "fixed ms", "model path ms", "measured path ms", "wall/path",
                           "sequential ms", "seq/wall");
  for (int i = 1; i <= runs; ++i) {
    milliseconds model{0}, unused{0};
    auto par = UpOnce(scale, 8, &model);
    auto seq = UpOnce(scale, 1, &unused);
    if (!par.ok() || !seq.ok()) {
      std::cerr << "bench failed: " << (par.ok() ? seq.status() : par.status()).message() << "\n";
      return 1;
    }
    std::cout << fmt::format("{:<4} {:>10} {:>9} {:>14} {:>16} {:>9.3f} {:>14} {:>9.2f}\n", i,
                             par->wall.count(), par->fixed.count(), model.count(),
                             par->measured_critical.count(),
                             double(par->wall.count()) / model.count(), seq->wall.count(),
                             double(seq->wall.count()) / par->wall.count());
  }
  return 0;
}

}  // namespace
}  // namespace aic::azure

int main(int argc, char** argv) {
  return aic::azure::Main(argc, argv);
}
