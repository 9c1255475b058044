#include "local/node/cri.h"

#include <grpcpp/grpcpp.h>

#include "cri/api.grpc.pb.h"

namespace aic::node {
namespace {

using std::chrono::milliseconds;

Code CodeOf(grpc::StatusCode code) {
  switch (code) {
    case grpc::StatusCode::NOT_FOUND:
      return Code::kNotFound;
    case grpc::StatusCode::ALREADY_EXISTS:
      return Code::kAlreadyExists;
    case grpc::StatusCode::INVALID_ARGUMENT:
      return Code::kInvalidArgument;
    case grpc::StatusCode::DEADLINE_EXCEEDED:
      return Code::kDeadlineExceeded;
    case grpc::StatusCode::CANCELLED:
      return Code::kCancelled;
    case grpc::StatusCode::UNAVAILABLE:
      return Code::kUnavailable;
    case grpc::StatusCode::PERMISSION_DENIED:
      return Code::kPermissionDenied;
    case grpc::StatusCode::FAILED_PRECONDITION:
      return Code::kFailedPrecondition;
    default:
      return Code::kInternal;
  }
}

// One RPC with the context's deadline (at most a minute: a CRI call never needs more).
template <typename Stub, typename Req, typename Resp>
Status Call(const Context& ctx, const char* name, Stub* stub,
            grpc::Status (Stub::*method)(grpc::ClientContext*, const Req&, Resp*), const Req& req,
            Resp* resp) {
  AIC_RETURN_IF_ERROR(ctx.Check());
  grpc::ClientContext call;
  call.set_deadline(std::chrono::system_clock::now() +
                    std::min(ctx.remaining(), milliseconds(60000)));
  grpc::Status s = (stub->*method)(&call, req, resp);
  if (s.ok()) return Status::Ok();
  return Error(CodeOf(s.error_code()), "cri {}: {}", name, s.error_message());
}

}  // namespace

struct CriClient::Stubs {
  std::unique_ptr<cri::RuntimeService::Stub> runtime;
  std::unique_ptr<cri::ImageService::Stub> images;
};

CriClient::CriClient(const std::string& socket) : stubs_(std::make_unique<Stubs>()) {
  auto channel = grpc::CreateChannel("unix://" + socket, grpc::InsecureChannelCredentials());
  stubs_->runtime = cri::RuntimeService::NewStub(channel);
  stubs_->images = cri::ImageService::NewStub(channel);
}

CriClient::~CriClient() = default;

Result<cri::VersionResponse> CriClient::Version(const Context& ctx) {
  cri::VersionRequest req;
  req.set_version("v1");
  cri::VersionResponse resp;
  AIC_RETURN_IF_ERROR(
      Call(ctx, "Version", stubs_->runtime.get(), &cri::RuntimeService::Stub::Version, req, &resp));
  return resp;
}

Status CriClient::WaitReady(const Context& ctx) {
  Status last = Error(Code::kUnavailable, "cri: no answer yet");
  for (;;) {
    cri::StatusResponse resp;
    last = Call(ctx, "Status", stubs_->runtime.get(), &cri::RuntimeService::Stub::Status,
                cri::StatusRequest(), &resp);
    if (last.ok()) {
      // Only the two conditions kubelet requires; containerd 2.2 adds informational ones (e.g.
      // ContainerdHasNoDeprecationWarnings=false on cgroup v1 hosts).
      int required = 0;
      for (const auto& c : resp.status().conditions()) {
        if (c.type() != "RuntimeReady" && c.type() != "NetworkReady") continue;
        ++required;
        if (!c.status()) {
          last = Error(Code::kUnavailable, "cri: {} is false: {} {}", c.type(), c.reason(),
                       c.message());
        }
      }
      if (last.ok() && required < 2) {
        last = Error(Code::kUnavailable, "cri: RuntimeReady or NetworkReady not reported");
      }
      if (last.ok()) return last;
    }
    if (!ctx.Sleep(milliseconds(50)).ok()) return last;
  }
}

Result<std::string> CriClient::ImageId(const Context& ctx, const std::string& image) {
  cri::ImageStatusRequest req;
  req.mutable_image()->set_image(image);
  cri::ImageStatusResponse resp;
  AIC_RETURN_IF_ERROR(Call(ctx, "ImageStatus", stubs_->images.get(),
                           &cri::ImageService::Stub::ImageStatus, req, &resp));
  if (!resp.has_image()) return Error(Code::kNotFound, "cri: image \"{}\" not present", image);
  return resp.image().id();
}

Result<std::string> CriClient::RunPodSandbox(const Context& ctx,
                                             const cri::PodSandboxConfig& config) {
  cri::RunPodSandboxRequest req;
  *req.mutable_config() = config;
  cri::RunPodSandboxResponse resp;
  AIC_RETURN_IF_ERROR(Call(ctx, "RunPodSandbox", stubs_->runtime.get(),
                           &cri::RuntimeService::Stub::RunPodSandbox, req, &resp));
  return resp.pod_sandbox_id();
}

Result<cri::PodSandboxStatus> CriClient::PodSandboxStatus(const Context& ctx,
                                                          const std::string& id) {
  cri::PodSandboxStatusRequest req;
  req.set_pod_sandbox_id(id);
  cri::PodSandboxStatusResponse resp;
  AIC_RETURN_IF_ERROR(Call(ctx, "PodSandboxStatus", stubs_->runtime.get(),
                           &cri::RuntimeService::Stub::PodSandboxStatus, req, &resp));
  return resp.status();
}

Status CriClient::StopPodSandbox(const Context& ctx, const std::string& id) {
  cri::StopPodSandboxRequest req;
  req.set_pod_sandbox_id(id);
  cri::StopPodSandboxResponse resp;
  return Call(ctx, "StopPodSandbox", stubs_->runtime.get(),
              &cri::RuntimeService::Stub::StopPodSandbox, req, &resp);
}

Status CriClient::RemovePodSandbox(const Context& ctx, const std::string& id) {
  cri::RemovePodSandboxRequest req;
  req.set_pod_sandbox_id(id);
  cri::RemovePodSandboxResponse resp;
  return Call(ctx, "RemovePodSandbox", stubs_->runtime.get(),
              &cri::RuntimeService::Stub::RemovePodSandbox, req, &resp);
}

Result<std::string> CriClient::CreateContainer(const Context& ctx, const std::string& sandbox_id,
                                               const cri::ContainerConfig& config,
                                               const cri::PodSandboxConfig& sandbox_config) {
  cri::CreateContainerRequest req;
  req.set_pod_sandbox_id(sandbox_id);
  *req.mutable_config() = config;
  *req.mutable_sandbox_config() = sandbox_config;
  cri::CreateContainerResponse resp;
  AIC_RETURN_IF_ERROR(Call(ctx, "CreateContainer", stubs_->runtime.get(),
                           &cri::RuntimeService::Stub::CreateContainer, req, &resp));
  return resp.container_id();
}

Status CriClient::StartContainer(const Context& ctx, const std::string& id) {
  cri::StartContainerRequest req;
  req.set_container_id(id);
  cri::StartContainerResponse resp;
  return Call(ctx, "StartContainer", stubs_->runtime.get(),
              &cri::RuntimeService::Stub::StartContainer, req, &resp);
}

Result<cri::ContainerStatus> CriClient::ContainerStatus(const Context& ctx, const std::string& id) {
  cri::ContainerStatusRequest req;
  req.set_container_id(id);
  cri::ContainerStatusResponse resp;
  AIC_RETURN_IF_ERROR(Call(ctx, "ContainerStatus", stubs_->runtime.get(),
                           &cri::RuntimeService::Stub::ContainerStatus, req, &resp));
  return resp.status();
}

Status CriClient::StopContainer(const Context& ctx, const std::string& id, int timeout_seconds) {
  cri::StopContainerRequest req;
  req.set_container_id(id);
  req.set_timeout(timeout_seconds);
  cri::StopContainerResponse resp;
  return Call(ctx, "StopContainer", stubs_->runtime.get(),
              &cri::RuntimeService::Stub::StopContainer, req, &resp);
}

Status CriClient::RemoveContainer(const Context& ctx, const std::string& id) {
  cri::RemoveContainerRequest req;
  req.set_container_id(id);
  cri::RemoveContainerResponse resp;
  return Call(ctx, "RemoveContainer", stubs_->runtime.get(),
              &cri::RuntimeService::Stub::RemoveContainer, req, &resp);
}

Result<cri::ExecSyncResponse> CriClient::ExecSync(const Context& ctx, const std::string& id,
                                                  const std::vector<std::string>& cmd,
                                                  int timeout_seconds) {
  cri::ExecSyncRequest req;
  req.set_container_id(id);
  for (const auto& c : cmd)
    req.add_cmd(c);
  req.set_timeout(timeout_seconds);
  cri::ExecSyncResponse resp;
  AIC_RETURN_IF_ERROR(Call(ctx, "ExecSync", stubs_->runtime.get(),
                           &cri::RuntimeService::Stub::ExecSync, req, &resp));
  return resp;
}

}  // namespace aic::node
