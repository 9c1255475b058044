// TODO(local): placeholder until the local control plane lands.
#include "local/commands.h"

#include "common/report.h"

namespace aic::local {

int UpCommand(const LocalCommandOptions&) {
  return ReportError("not implemented yet");
}
int DownCommand(const LocalCommandOptions&) {
  return ReportError("not implemented yet");
}
int StatusCommand(const LocalCommandOptions&) {
  return ReportError("not implemented yet");
}
int KubeconfigPathCommand(const LocalCommandOptions&) {
  return ReportError("not implemented yet");
}

}  // namespace aic::local
