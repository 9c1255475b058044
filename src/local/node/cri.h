// A small client of the Container Runtime Interface (gRPC over a unix socket) for what
// aiconform does with a node's runtime itself: wait for readiness, check images, and run pods
// and containers in tests. Messages are those of proto/cri/api.proto; gRPC failures come back
// as aic::Status with the RPC name in the message.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "common/context.h"
#include "common/status.h"
#include "cri/api.pb.h"

namespace aic::node {

namespace cri = ::runtime::v1;

class CriClient {
 public:
  // Connects lazily; the first call fails with kUnavailable when nothing listens.
  explicit CriClient(const std::string& socket);
  ~CriClient();

  Result<cri::VersionResponse> Version(const Context& ctx);

  // Ok once the runtime reports both RuntimeReady and NetworkReady; otherwise polls until `ctx`
  // ends and fails with the last condition that was not met.
  Status WaitReady(const Context& ctx);

  // The image's id, or kNotFound when the runtime does not have it.
  Result<std::string> ImageId(const Context& ctx, const std::string& image);

  Result<std::string> RunPodSandbox(const Context& ctx, const cri::PodSandboxConfig& config);
  Result<cri::PodSandboxStatus> PodSandboxStatus(const Context& ctx, const std::string& id);
  Status StopPodSandbox(const Context& ctx, const std::string& id);
  Status RemovePodSandbox(const Context& ctx, const std::string& id);

  Result<std::string> CreateContainer(const Context& ctx, const std::string& sandbox_id,
                                      const cri::ContainerConfig& config,
                                      const cri::PodSandboxConfig& sandbox_config);
  Status StartContainer(const Context& ctx, const std::string& id);
  Result<cri::ContainerStatus> ContainerStatus(const Context& ctx, const std::string& id);
  Status StopContainer(const Context& ctx, const std::string& id, int timeout_seconds);
  Status RemoveContainer(const Context& ctx, const std::string& id);
  Result<cri::ExecSyncResponse> ExecSync(const Context& ctx, const std::string& id,
                                         const std::vector<std::string>& cmd, int timeout_seconds);

 private:
  struct Stubs;
  std::unique_ptr<Stubs> stubs_;
};

}  // namespace aic::node
