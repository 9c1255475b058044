#include "azure/engine.h"

#include <atomic>
#include <cctype>
#include <condition_variable>
#include <future>
#include <map>
#include <mutex>
#include <set>
#include <thread>

#include <fmt/format.h>

#include "common/log.h"

namespace aic::azure {
namespace {

using std::chrono::milliseconds;

struct Step {
  std::string key;
  std::string name;
  std::vector<std::string> deps;
  // What the step does; `decide`, when set, finds it out once the dependencies are done (until
  // then `action` stands in, e.g. in "skipped" events).
  Action action;
  std::function<Status(const Context&)> run;
  std::function<Result<Action>(const Context&)> decide;
};

// Runs steps as soon as their dependencies are done, at most `parallelism` at once.
Status RunGraph(const Context& ctx, std::vector<Step> steps, const ApplyOptions& options) {
  enum State { kPending, kRunning, kDone, kFailed, kSkipped };
  std::mutex mu;
  std::condition_variable cv;
  std::map<std::string, State> state;
  for (const auto& s : steps)
    state[s.key] = kPending;
  Status first_error;
  int running = 0;
  std::vector<std::thread> threads;
  auto emit = [&](const ApplyEvent& e) {
    if (options.on_event) options.on_event(e);
  };

  std::unique_lock lock(mu);
  for (;;) {
    bool progressed = false;
    for (auto& s : steps) {
      if (state[s.key] != kPending) continue;
      bool ready = true, blocked = false;
      for (const auto& d : s.deps) {
        auto it = state.find(d);
        if (it == state.end() || it->second == kDone) continue;
        ready = false;
        if (it->second == kFailed || it->second == kSkipped) blocked = true;
      }
      if (blocked || (ready && !ctx.Check().ok())) {
        state[s.key] = kSkipped;
        emit({s.key, s.name, "skipped", s.action, milliseconds(0), "a dependency failed"});
        progressed = true;
        continue;
      }
      if (!ready || running >= options.parallelism) continue;
      state[s.key] = kRunning;
      ++running;
      progressed = true;
      threads.emplace_back([&, step = &s] {
        Result<Action> action = step->decide ? step->decide(ctx) : Result<Action>(step->action);
        auto start = Clock::now();
        Status st = action.status();
        if (st.ok()) {
          if (*action != Action::kUnchanged) {
            emit({step->key, step->name, "start", *action, milliseconds(0), ""});
          }
          st = step->run(ctx);
        }
        auto took = std::chrono::duration_cast<milliseconds>(Clock::now() - start);
        emit({step->key, step->name, st.ok() ? "done" : "failed",
              action.ok() ? *action : step->action, took, st.message()});
        std::lock_guard inner(mu);
        state[step->key] = st.ok() ? kDone : kFailed;
        if (!st.ok() && first_error.ok()) first_error = st;
        --running;
        cv.notify_all();
      });
    }
    if (progressed) continue;
    if (running == 0) break;
    cv.wait(lock);
  }
  lock.unlock();
  for (auto& t : threads)
    t.join();
  return first_error;
}

// Polls `id` until `field` of its properties reads `want`.
Status WaitForState(const Context& ctx, ArmClient& arm, const Resource& r, const char* field,
                    const char* want, milliseconds poll) {
  for (;;) {
    AIC_ASSIGN_OR_RETURN(auto got, arm.Get(ctx, r.id, r.api_version));
    std::string state;
    if (got && got->is_object()) {
      const json& props = got->contains("properties") ? (*got)["properties"] : *got;
      state = props.value(field, "");
    }
    if (state == want) return Status::Ok();
    log::Get("azure")->debug("{}: {} is {}, waiting for {}", r.key, field, state, want);
    AIC_RETURN_IF_ERROR(ctx.Sleep(poll));
  }
}

bool Terminal(const std::string& state) {
  return state == "Succeeded" || state == "Failed" || state == "Canceled";
}

// Waits for the operation someone else started on an unchanged resource (an interrupted
// earlier run, a colleague) to end, so that its dependents find it ready; if it failed, the
// spec's body is sent again, as for any failed resource.
Status WaitUntilSettled(const Context& ctx, ArmClient& arm, const Change& c, milliseconds poll) {
  const Resource& r = c.resource;
  for (;;) {
    AIC_ASSIGN_OR_RETURN(auto got, arm.Get(ctx, r.id, r.api_version));
    if (!got) return Error(Code::kFailedPrecondition, "{}: gone while waiting for it", r.id);
    const json& props = got->contains("properties") ? (*got)["properties"] : json::object();
    std::string state = props.is_object() ? props.value("provisioningState", "") : "";
    if (state.empty() || state == "Succeeded") return Status::Ok();
    if (state == "Failed" || state == "Canceled") {
      log::Get("azure")->info("{}: its operation ended {}; sending it again", r.key, state);
      return arm.Put(ctx, r.id, r.api_version, r.body).status();
    }
    log::Get("azure")->debug("{}: provisioningState {}, waiting", r.key, state);
    AIC_RETURN_IF_ERROR(ctx.Sleep(poll));
  }
}

Status RunChange(const Context& ctx, ArmClient& arm, const Change& c, milliseconds poll) {
  const Resource& r = c.resource;
  switch (c.action) {
    case Action::kUnchanged:
      if (c.observed_state.empty() || Terminal(c.observed_state)) return Status::Ok();
      return WaitUntilSettled(ctx, arm, c, poll);
    case Action::kDelete:
      return arm.Delete(ctx, r.id, r.api_version);
    case Action::kRegister: {
      AIC_RETURN_IF_ERROR(arm.Post(ctx, r.id + "/register", r.api_version).status());
      if (r.kind == ResourceKind::kFeature)
        return WaitForState(ctx, arm, r, "state", "Registered", poll);
      // The provider answers with itself; registrationState is top-level there.
      return WaitForState(ctx, arm, r, "registrationState", "Registered", poll);
    }
    case Action::kCreate:
    case Action::kUpdate:
      return arm.Put(ctx, r.id, r.api_version, r.body).status();
  }
  return Status::Ok();
}

// True when `actual` carries the managed-by tag that `r`'s body sets.
bool CreatedForSpec(const Resource& r, const json& actual) {
  auto tag = [](const json& j) {
    bool has = j.is_object() && j.contains("tags") && j["tags"].is_object();
    return has ? j["tags"].value(kManagedByTag, "") : std::string();
  };
  return !tag(r.body).empty() && tag(actual) == tag(r.body);
}

// What to do with `r`, given what ARM reports (nullopt: it does not exist).
Change Decide(const Resource& r, const std::optional<json>& actual, bool* any_feature_registers) {
  Change c{r, Action::kUnchanged, {}, ""};
  if (r.kind == ResourceKind::kFeature) {
    bool registered = actual && actual->contains("properties") &&
                      (*actual)["properties"].value("state", "") == "Registered";
    c.action = registered ? Action::kUnchanged : Action::kRegister;
    *any_feature_registers |= !registered;
  } else if (r.kind == ResourceKind::kProvider) {
    bool registered = actual && actual->value("registrationState", "") == "Registered";
    c.action = registered && !*any_feature_registers ? Action::kUnchanged : Action::kRegister;
  } else if (!actual) {
    c.action = Action::kCreate;
  } else if (r.type == "Microsoft.Resources/resourceGroups" && !CreatedForSpec(r, *actual)) {
    // A group someone else made keeps its tags (a PUT would replace them) and is never adopted:
    // `down` deletes only a group that carries the spec's tag.
    c.fields.push_back("(not created by aiconform: used as it is, and `down` will not delete it)");
  } else {
    c.fields = DiffFields(r.body, *actual, r.drift_ok);
    // A resource whose last operation failed or was cancelled is sent again even when its body
    // matches: the same PUT is how ARM resources are repaired.
    const json* props =
        actual->is_object() && actual->contains("properties") ? &(*actual)["properties"] : nullptr;
    std::string state = props && props->is_object() ? props->value("provisioningState", "") : "";
    c.observed_state = state;
    if (state == "Failed" || state == "Canceled") {
      c.fields.push_back(fmt::format("provisioningState: \"{}\" -> \"Succeeded\"", state));
    }
    c.action = c.fields.empty() ? Action::kUnchanged : Action::kUpdate;
  }
  return c;
}

std::string Lower(std::string s) {
  for (auto& ch : s)
    ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
  return s;
}

// Appends a delete for each listed item the spec owns and no longer describes. Each depends on
// every wanted resource, so deletes start once all creates and updates are done.
void AddOrphans(const std::vector<Resource>& resources, const std::vector<OwnedCollection>& owned,
                const std::vector<std::vector<json>>& listed, std::vector<Change>* out) {
  std::set<std::string> wanted_ids, keys;
  std::vector<std::string> wanted_keys;
  for (const auto& r : resources) {
    wanted_ids.insert(Lower(r.id));
    wanted_keys.push_back(r.key);
    keys.insert(r.key);
  }
  for (size_t i = 0; i < owned.size(); ++i) {
    const OwnedCollection& c = owned[i];
    for (const json& item : listed[i]) {
      std::string id = item.is_object() ? item.value("id", "") : "";
      if (id.empty() || wanted_ids.count(Lower(id)) || !Owns(c, item)) continue;
      std::string name = item.value("name", "");
      std::string key = c.key_prefix + name;
      while (!keys.insert(key).second)
        key += "~";
      Resource r{key, c.type, name, ResourceKind::kArm, id, c.api_version, json(), wanted_keys, {}};
      log::Get("azure")->debug("{}: owned by the spec but no longer in it; will delete", id);
      out->push_back({std::move(r), Action::kDelete, {}, ""});
    }
  }
}

}  // namespace

const char* ActionName(Action a) {
  switch (a) {
    case Action::kCreate:
      return "create";
    case Action::kUpdate:
      return "update";
    case Action::kUnchanged:
      return "unchanged";
    case Action::kDelete:
      return "delete";
    case Action::kRegister:
      return "register";
  }
  return "?";
}

std::vector<Change> OfflinePlan(const std::vector<Resource>& resources) {
  std::vector<Change> out;
  for (const auto& r : resources) {
    out.push_back({r, r.kind == ResourceKind::kArm ? Action::kCreate : Action::kRegister, {}, ""});
  }
  return out;
}

Result<std::vector<Change>> Plan(const Context& ctx, ArmClient& arm,
                                 const std::vector<Resource>& resources,
                                 const std::vector<OwnedCollection>& owned) {
  // Every read and list is independent: issue them together.
  std::vector<std::future<Result<std::optional<json>>>> reads;
  for (const auto& r : resources) {
    reads.push_back(std::async(std::launch::async,
                               [&ctx, &arm, &r] { return arm.Get(ctx, r.id, r.api_version); }));
  }
  std::vector<std::future<Result<std::vector<json>>>> lists;
  for (const auto& c : owned) {
    lists.push_back(std::async(std::launch::async, [&ctx, &arm, &c] {
      return arm.List(ctx, c.list_path, c.api_version);
    }));
  }

  std::vector<Change> out;
  Status failed;
  bool any_feature_registers = false;
  for (size_t i = 0; i < resources.size(); ++i) {
    const Resource& r = resources[i];
    auto got = reads[i].get();
    if (!got.ok()) {
      if (failed.ok()) failed = got.status().Prefixed(fmt::format("reading {}", r.key));
      continue;
    }
    out.push_back(Decide(r, *got, &any_feature_registers));
  }
  std::vector<std::vector<json>> listed;
  for (size_t i = 0; i < owned.size(); ++i) {
    auto items = lists[i].get();
    if (!items.ok() && failed.ok()) {
      failed = items.status().Prefixed(fmt::format("listing {}", owned[i].type));
    }
    listed.push_back(items.ok() ? std::move(*items) : std::vector<json>());
  }
  // Every future is joined before returning: they refer to this frame's arguments.
  if (!failed.ok()) return failed;
  AddOrphans(resources, owned, listed, &out);
  return out;
}

std::vector<PlannedRequest> Requests(const std::vector<Change>& changes) {
  std::vector<PlannedRequest> out;
  for (const auto& c : changes) {
    const Resource& r = c.resource;
    std::string q = "?api-version=" + r.api_version;
    switch (c.action) {
      case Action::kUnchanged:
        break;
      case Action::kRegister:
        // ArmClient::Post sends an empty object.
        out.push_back(
            {r.key, ActionName(c.action), "POST", r.id + "/register" + q, json::object()});
        break;
      case Action::kDelete:
        out.push_back({r.key, ActionName(c.action), "DELETE", r.id + q, json()});
        break;
      case Action::kCreate:
      case Action::kUpdate:
        out.push_back({r.key, ActionName(c.action), "PUT", r.id + q, r.body});
        break;
    }
  }
  return out;
}

Status Apply(const Context& ctx, ArmClient& arm, const std::vector<Change>& changes,
             const ApplyOptions& options) {
  std::vector<Step> steps;
  milliseconds poll = options.poll_interval;
  for (const auto& c : changes) {
    steps.push_back({c.resource.key,
                     c.resource.name,
                     c.resource.deps,
                     c.action,
                     [&arm, &c, poll](const Context& ctx) { return RunChange(ctx, arm, c, poll); },
                     {}});
  }
  return RunGraph(ctx, std::move(steps), options);
}

Result<std::vector<Change>> PlanAndApply(const Context& ctx, ArmClient& arm,
                                         const std::vector<Resource>& resources,
                                         const std::vector<OwnedCollection>& owned,
                                         const ApplyOptions& options) {
  // A read goes out once the reads of its dependencies have returned: the steps that can start
  // at once do not queue behind a dozen other reads (each a new connection), and every other read
  // still returns long before its step can start. A step waits for its own read only.
  using Read = std::shared_future<Result<std::optional<json>>>;
  std::vector<Read> reads(resources.size()), first;
  std::map<std::string, Read> read_of;
  for (size_t i = 0; i < resources.size(); ++i) {
    const Resource& r = resources[i];
    std::vector<Read> before;  // resources come in dependency order: these are already set
    for (const auto& d : r.deps) {
      if (auto it = read_of.find(d); it != read_of.end()) before.push_back(it->second);
    }
    reads[i] = std::async(std::launch::async, [&ctx, &arm, &r, before] {
                 for (const auto& f : before)
                   f.wait();
                 return arm.Get(ctx, r.id, r.api_version);
               }).share();
    read_of[r.key] = reads[i];
    if (r.deps.empty()) first.push_back(reads[i]);
  }
  // The lists are needed only at the end.
  auto after_first = [first] {
    for (const auto& f : first)
      f.wait();
  };
  std::vector<std::future<Result<std::vector<json>>>> lists;
  for (const auto& c : owned) {
    lists.push_back(std::async(std::launch::async, [&ctx, &arm, &c, after_first] {
      after_first();
      return arm.List(ctx, c.list_path, c.api_version);
    }));
  }

  // decided[i] is written by step i only, before it runs; a provider step runs after every
  // feature step, so the flag is final when the provider decides.
  std::vector<std::optional<Change>> decided(resources.size());
  std::atomic<bool> any_feature_registers{false};
  milliseconds poll = options.poll_interval;
  std::vector<Step> steps;
  for (size_t i = 0; i < resources.size(); ++i) {
    const Resource& r = resources[i];
    auto decide = [&, i](const Context&) -> Result<Action> {
      const auto& got = reads[i].get();
      if (!got.ok()) return got.status().Prefixed(fmt::format("reading {}", resources[i].key));
      bool registers = any_feature_registers.load();
      decided[i] = Decide(resources[i], *got, &registers);
      if (registers) any_feature_registers = true;
      return decided[i]->action;
    };
    auto run = [&arm, &decided, i, poll](const Context& ctx) {
      return RunChange(ctx, arm, *decided[i], poll);
    };
    steps.push_back({r.key, r.name, r.deps, Action::kUnchanged, run, decide});
  }
  Status st = RunGraph(ctx, std::move(steps), options);

  std::vector<std::vector<json>> listed;
  for (size_t i = 0; i < owned.size(); ++i) {
    auto items = lists[i].get();
    if (!items.ok() && st.ok()) {
      st = items.status().Prefixed(fmt::format("listing {}", owned[i].type));
    }
    listed.push_back(items.ok() ? std::move(*items) : std::vector<json>());
  }
  for (const auto& f : reads)
    f.wait();  // the reads of skipped steps too: they refer to this frame's arguments
  if (!st.ok()) return st;

  std::vector<Change> out;
  for (auto& c : decided) {
    if (c) out.push_back(std::move(*c));
  }
  // What the spec owns and no longer describes goes once everything else is in place.
  std::vector<Change> orphans;
  AddOrphans(resources, owned, listed, &orphans);
  if (!orphans.empty()) AIC_RETURN_IF_ERROR(Apply(ctx, arm, orphans, options));
  out.insert(out.end(), orphans.begin(), orphans.end());
  return out;
}

Status DeleteEach(const Context& ctx, ArmClient& arm, const std::vector<Resource>& resources,
                  const ApplyOptions& options) {
  // A resource goes once everything that depends on it is gone.
  std::map<std::string, std::vector<std::string>> dependents;
  for (const auto& r : resources) {
    for (const auto& d : r.deps)
      dependents[d].push_back(r.key);
  }
  std::vector<Step> steps;
  for (const auto& r : resources) {
    if (r.kind != ResourceKind::kArm || r.key == "group") continue;
    steps.push_back(
        {r.key,
         r.name,
         dependents[r.key],
         Action::kDelete,
         [&arm, &r](const Context& ctx) { return arm.Delete(ctx, r.id, r.api_version); },
         {}});
  }
  return RunGraph(ctx, std::move(steps), options);
}

milliseconds CriticalPath(const std::vector<Change>& changes,
                          const std::function<milliseconds(const std::string&)>& duration) {
  std::map<std::string, milliseconds> finish;
  milliseconds longest{0};
  // Changes come in dependency order, so each dependency's finish time is known.
  for (const auto& c : changes) {
    milliseconds start{0};
    for (const auto& d : c.resource.deps)
      start = std::max(start, finish[d]);
    milliseconds own = c.action == Action::kUnchanged ? milliseconds(0) : duration(c.resource.key);
    finish[c.resource.key] = start + own;
    longest = std::max(longest, start + own);
  }
  return longest;
}

}  // namespace aic::azure
