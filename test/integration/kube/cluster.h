// The control plane the kube integration tests run against: the shared LocalCluster, or,
// when AIC_TEST_KUBECONFIG is set, a cluster the developer started (then
// AIC_TEST_RESTART_APISERVER is a shell command that restarts its apiserver and returns once
// it serves again).
#pragma once

#include <cstdlib>
#include <memory>
#include <random>
#include <string>

#include <gtest/gtest.h>

#include "integration/local_cluster.h"
#include "kube/client.h"

namespace aic::kube::testing {

inline std::string Kubeconfig() {
  const char* env = std::getenv("AIC_TEST_KUBECONFIG");
  if (env && *env) return env;
  return aic::testing::LocalCluster::Shared().kubeconfig();
}

inline Status RestartApiserver() {
  const char* env = std::getenv("AIC_TEST_KUBECONFIG");
  if (!(env && *env)) return aic::testing::LocalCluster::Shared().RestartApiserver();
  const char* cmd = std::getenv("AIC_TEST_RESTART_APISERVER");
  if (!cmd || std::system(cmd) != 0) {
    return Status(Code::kFailedPrecondition, "AIC_TEST_RESTART_APISERVER failed or unset");
  }
  return Status::Ok();
}

inline std::unique_ptr<Client> AdminClient() {
  auto client = Client::FromKubeconfig(Kubeconfig());
  EXPECT_TRUE(client.ok()) << client.status().ToString();
  return client.ok() ? std::move(client).value() : nullptr;
}

inline Context Deadline(int seconds = 30) {
  return Context::WithTimeout(std::chrono::seconds(seconds));
}

// A namespace of its own for one test, deleted (without waiting) when the test ends.
class TestNamespace {
 public:
  TestNamespace(Client& client, const std::string& prefix) : client_(client) {
    std::random_device rd;
    name_ = prefix + "-" + std::to_string(rd() % 100000);
    auto ns = client_.Resource(Deadline(), "namespaces");
    EXPECT_TRUE(ns.ok()) << ns.status().ToString();
    if (!ns.ok()) return;
    resource_ = *ns;
    auto made = client_.Create(Deadline(), resource_, "", {{"metadata", {{"name", name_}}}});
    EXPECT_TRUE(made.ok()) << made.status().ToString();
  }
  ~TestNamespace() {
    if (!resource_.resource.empty()) (void)client_.Delete(Deadline(), resource_, "", name_);
  }
  const std::string& name() const { return name_; }

 private:
  Client& client_;
  ResourceInfo resource_;
  std::string name_;
};

}  // namespace aic::kube::testing
