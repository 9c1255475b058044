// A real local control plane for integration tests: started once per test binary on free
// ports in a temporary state directory, and removed when the binary exits.
#pragma once

#include <memory>
#include <string>

#include "common/status.h"
#include "local/control_plane.h"

namespace aic::testing {

class LocalCluster {
 public:
  // Starts the cluster on first use; aborts the test binary when it cannot start (every test
  // that needs it would fail anyway, and the reason is printed once).
  static LocalCluster& Shared();

  const std::string& state_dir() const { return state_dir_; }
  std::string kubeconfig() const { return cp_->layout().admin_kubeconfig(); }
  std::string server() const;
  std::string bin_dir() const { return cp_->options().bin_dir; }

  // Kills the apiserver (SIGKILL) and starts it again; returns once it serves /readyz.
  Status RestartApiserver();
  // Kills the apiserver and does not start it again until StartApiserver.
  Status StopApiserver();
  Status StartApiserver();

  ~LocalCluster();

 private:
  LocalCluster() = default;
  Status Start();

  std::string state_dir_;
  std::unique_ptr<local::ControlPlane> cp_;
};

// A fresh temporary directory under $TMPDIR (or /tmp) whose name starts with `prefix`.
std::string MakeTempDir(const std::string& prefix);

}  // namespace aic::testing
