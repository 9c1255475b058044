// TODO(aks): placeholder until the AKS environment lands; every command reports that the
// target is not available yet.
#include "azure/commands.h"

#include "common/report.h"

namespace aic::azure {

int PlanCommand(const AksCommandOptions&) {
  return ReportError("--target aks is not implemented yet");
}
int UpCommand(const AksCommandOptions&) {
  return ReportError("--target aks is not implemented yet");
}
int DownCommand(const AksCommandOptions&) {
  return ReportError("--target aks is not implemented yet");
}

}  // namespace aic::azure
