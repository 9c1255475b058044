#include "integration/local_cluster.h"

#include <csignal>
#include <cstdlib>
#include <filesystem>
#include <iostream>

#include "local/state.h"

namespace aic::testing {
namespace {

using std::chrono::seconds;

LocalCluster* shared = nullptr;

void TearDownShared() {
  delete shared;
  shared = nullptr;
}

}  // namespace

std::string MakeTempDir(const std::string& prefix) {
  const char* tmp = getenv("TMPDIR");
  std::string pattern = std::string(tmp && *tmp ? tmp : "/tmp") + "/" + prefix + "XXXXXX";
  if (mkdtemp(pattern.data()) == nullptr) {
    std::cerr << "cannot create a temporary directory " << pattern << "\n";
    std::abort();
  }
  return pattern;
}

LocalCluster& LocalCluster::Shared() {
  if (shared != nullptr) return *shared;
  shared = new LocalCluster();
  Status s = shared->Start();
  if (!s.ok()) {
    std::cerr << "local cluster for tests did not start: " << s.message() << "\n";
    TearDownShared();
    std::exit(1);
  }
  std::atexit(TearDownShared);
  return *shared;
}

Status LocalCluster::Start() {
  // The cluster lives in a directory of its own, so tests never touch a user's cluster.
  state_dir_ = MakeTempDir("aic-test-cluster-");
  std::filesystem::remove(state_dir_);
  local::ControlPlaneOptions o;
  o.name = "aic-test";
  o.state_dir = state_dir_;
  o.bin_dir = local::DefaultBinDir();
  cp_ = std::make_unique<local::ControlPlane>(o);
  Progress quiet(true);
  auto up = cp_->Up(Context::WithTimeout(seconds(120)), quiet);
  return up.ok() ? Status::Ok() : up.status();
}

LocalCluster::~LocalCluster() {
  if (!cp_) return;
  Progress quiet(true);
  Status s = cp_->Down(Context::WithTimeout(seconds(60)), /*purge=*/true, quiet);
  if (!s.ok()) std::cerr << "stopping the test cluster: " << s.message() << "\n";
}

std::string LocalCluster::server() const {
  auto record = local::LoadRecord(cp_->layout());
  return record.ok() ? fmt::format("https://127.0.0.1:{}", record->ports.apiserver) : "";
}

Status LocalCluster::StopApiserver() {
  AIC_ASSIGN_OR_RETURN(local::ClusterRecord record, local::LoadRecord(cp_->layout()));
  local::ComponentRecord* api = record.Find("kube-apiserver");
  if (api == nullptr) return Status(Code::kNotFound, "no kube-apiserver in the cluster record");
  kill(api->process.pid, SIGKILL);
  return local::Terminate(api->process, seconds(10));
}

Status LocalCluster::StartApiserver() {
  Progress quiet(true);
  auto up = cp_->Up(Context::WithTimeout(seconds(120)), quiet);
  return up.ok() ? Status::Ok() : up.status();
}

Status LocalCluster::RestartApiserver() {
  AIC_RETURN_IF_ERROR(StopApiserver());
  return StartApiserver();
}

}  // namespace aic::testing
