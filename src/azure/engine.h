// Plan, apply and delete an environment: compare the desired resources with what ARM reports,
// then send only the writes that are needed, independent resources in parallel and each after
// the resources it depends on.
#pragma once

#include <chrono>
#include <functional>
#include <string>
#include <vector>

#include "azure/arm.h"
#include "azure/resources.h"

namespace aic::azure {

enum class Action { kCreate, kUpdate, kUnchanged, kDelete, kRegister };
const char* ActionName(Action a);

struct Change {
  Resource resource;
  Action action = Action::kCreate;
  std::vector<std::string> fields;  // for kUpdate: "path: old -> new"
  // The provisioningState ARM reported, empty when there was none. Applying an unchanged
  // resource that is still Creating or Updating waits until that operation ends.
  std::string observed_state;
};

// One request as the plan would send it (for `plan -o json`).
struct PlannedRequest {
  std::string key;
  std::string action;
  std::string method;
  std::string path;  // with api-version
  nlohmann::json body;
};

// Every resource is a create (features and the provider a registration); needs no credentials.
std::vector<Change> OfflinePlan(const std::vector<Resource>& resources);

// Reads each resource (GETs only) and decides what to do with it. Then lists each of `owned`:
// what the spec owns there but no longer describes becomes a delete, ordered after every other
// change so that, for example, a renamed pool's replacement exists before the old pool goes.
Result<std::vector<Change>> Plan(const Context& ctx, ArmClient& arm,
                                 const std::vector<Resource>& resources,
                                 const std::vector<OwnedCollection>& owned = {});

std::vector<PlannedRequest> Requests(const std::vector<Change>& changes);

struct ApplyEvent {
  std::string key;
  std::string name;  // the resource's name
  std::string what;  // "start", "done", "failed", "skipped"
  Action action;
  std::chrono::milliseconds elapsed{0};
  std::string message;
};

struct ApplyOptions {
  int parallelism = 8;  // 1 runs the steps one after another
  // How often a feature or provider registration is polled.
  std::chrono::milliseconds poll_interval{10000};
  std::function<void(const ApplyEvent&)> on_event;
};

// Applies the changes in dependency order; a failed step skips its dependents and the first
// error is returned once every running step has ended.
Status Apply(const Context& ctx, ArmClient& arm, const std::vector<Change>& changes,
             const ApplyOptions& options);

// Plan and Apply in one pass, for `up`: every read goes out at once, and each step decides and
// acts as soon as its own read has returned and its dependencies are done, instead of after the
// slowest read. What the spec owns but no longer describes is deleted last, as in Plan. A failed
// read fails its step only (its dependents are skipped). Returns the changes as decided.
Result<std::vector<Change>> PlanAndApply(const Context& ctx, ArmClient& arm,
                                         const std::vector<Resource>& resources,
                                         const std::vector<OwnedCollection>& owned,
                                         const ApplyOptions& options);

// Deletes each ARM resource in reverse dependency order (404s are fine). Features and the
// provider are left registered: aiconform unregisters nothing.
Status DeleteEach(const Context& ctx, ArmClient& arm, const std::vector<Resource>& resources,
                  const ApplyOptions& options);

// The critical path of `changes` through the dependency graph when each step takes
// `duration(key)`: the lower bound of Apply's wall time.
std::chrono::milliseconds CriticalPath(
    const std::vector<Change>& changes,
    const std::function<std::chrono::milliseconds(const std::string&)>& duration);

}  // namespace aic::azure
