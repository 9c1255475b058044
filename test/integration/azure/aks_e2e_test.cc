// `aiconform plan / up / down --target aks` end to end against the ARM emulator.
#include <filesystem>
#include <fstream>
#include <regex>
#include <sstream>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "emulator_process.h"

namespace aic::azure::testing {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;
using json = nlohmann::json;
namespace fs = std::filesystem;

const char kExample[] = AIC_SOURCE_DIR "/examples/aks-ai-conformant.yaml";

std::string Slurp(const std::string& path) {
  std::ifstream in(path);
  std::stringstream buf;
  buf << in.rdbuf();
  return buf.str();
}

class AksEndToEnd : public ::testing::Test {
 protected:
  void SetUp() override {
    auto emu = EmulatorProcess::Start(0.02);
    ASSERT_TRUE(emu.ok()) << emu.status().message();
    emu_ = std::move(*emu);
    env_ = emu_->SecretEnv();
    spec_ = emu_->dir() + "/env.yaml";
    fs::copy_file(kExample, spec_);
    kubeconfig_ = emu_->dir() + "/kubeconfig";
  }

  CliResult Aiconform(const std::string& verb, std::vector<std::string> extra = {}) {
    std::vector<std::string> args = {
        verb,        "--target",     "aks", "-f", spec_, "--arm-endpoint", emu_->endpoint(),
        "--ca-file", emu_->ca_file()};
    if (verb == "up") {
      args.push_back("--kubeconfig-out");
      args.push_back(kubeconfig_);
    }
    args.insert(args.end(), extra.begin(), extra.end());
    return RunCli(args, env_);
  }

  json State() {
    auto s = emu_->State();
    EXPECT_TRUE(s.ok()) << s.status().message();
    return s.ok() ? *s : json();
  }

  // Replaces the first occurrence of `from` in the spec.
  void EditSpec(const std::string& from, const std::string& to) {
    std::string text = Slurp(spec_);
    auto at = text.find(from);
    ASSERT_NE(at, std::string::npos) << from;
    text.replace(at, from.size(), to);
    std::ofstream(spec_) << text;
  }

  std::unique_ptr<EmulatorProcess> emu_;
  std::map<std::string, std::string> env_;
  std::string spec_, kubeconfig_;
};

TEST_F(AksEndToEnd, UpFromNothingCreatesEveryResourceAndWritesAKubeconfig) {
  auto up = Aiconform("up");
  ASSERT_EQ(up.exit_code, 0) << up.err;

  json state = State();
  EXPECT_EQ(state["resources"].size(), 10u) << state["resources"].dump(1);
  for (const auto& [id, r] : state["resources"].items()) {
    EXPECT_EQ(r["provisioningState"], "Succeeded") << id;
  }
  for (const auto& [id, s] : state["features"].items())
    EXPECT_EQ(s, "Registered") << id;
  EXPECT_THAT(state["writes"].dump(), HasSubstr("Microsoft.ContainerService/register"));
  EXPECT_THAT(Slurp(kubeconfig_), HasSubstr("current-context: aks-ai-conformant-dev"));
  EXPECT_EQ(fs::status(kubeconfig_).permissions() & fs::perms::others_read, fs::perms::none);
}

TEST_F(AksEndToEnd, PlanAfterUpShowsNoChangeAndUpAgainSendsNoWrite) {
  ASSERT_EQ(Aiconform("up").exit_code, 0);
  size_t writes = State()["writes"].size();

  auto plan = Aiconform("plan", {"-o", "json"});
  ASSERT_EQ(plan.exit_code, 0) << plan.err;
  json p = json::parse(plan.out);
  EXPECT_TRUE(p["requests"].empty()) << p["requests"].dump(1);
  for (const auto& c : p["changes"])
    EXPECT_EQ(c["action"], "unchanged") << c.dump();

  size_t requests = State()["requests"].size();
  auto again = Aiconform("up");
  ASSERT_EQ(again.exit_code, 0) << again.err;
  EXPECT_EQ(State()["writes"].size(), writes) << State()["writes"].dump(1);
  // Not even a refused write: only reads, and the credentials for the kubeconfig.
  json all = State()["requests"];
  for (size_t i = requests; i < all.size(); ++i) {
    std::string r = all[i];
    EXPECT_TRUE(r.rfind("GET ", 0) == 0 || r.find("/listClusterUserCredential ") != r.npos) << r;
  }
  EXPECT_THAT(again.err, HasSubstr("0 created, 0 updated, 0 registered, 0 deleted, 12 unchanged"));
}

TEST_F(AksEndToEnd, ChangedAcceleratorPoolSizeUpdatesOnlyThatPool) {
  ASSERT_EQ(Aiconform("up").exit_code, 0);
  size_t writes = State()["writes"].size();
  EditSpec("vmSize: Standard_D4s_v3", "vmSize: Standard_D8s_v3");

  auto plan = Aiconform("plan");
  ASSERT_EQ(plan.exit_code, 0) << plan.err;
  EXPECT_THAT(plan.out, HasSubstr("properties/vmSize: \"Standard_D4s_v3\" -> \"Standard_D8s_v3\""));
  EXPECT_THAT(plan.out, HasSubstr("0 to create, 1 to update"));

  ASSERT_EQ(Aiconform("up").exit_code, 0);
  json w = State()["writes"];
  ASSERT_EQ(w.size(), writes + 1) << w.dump(1);
  EXPECT_THAT(w.back().get<std::string>(), HasSubstr("PUT "));
  EXPECT_THAT(w.back().get<std::string>(), HasSubstr("/agentPools/gpunp"));
}

// Index of the first write that contains all of `parts`, or the number of writes.
size_t WriteIndex(const json& writes, std::initializer_list<const char*> parts) {
  for (size_t i = 0; i < writes.size(); ++i) {
    std::string w = writes[i];
    bool all = true;
    for (const char* p : parts)
      all &= w.find(p) != std::string::npos;
    if (all) return i;
  }
  return writes.size();
}

TEST_F(AksEndToEnd, GpuExampleRegistersTheManagedGpuFeatureAndInstallsTheDriver) {
  fs::copy_file(AIC_SOURCE_DIR "/examples/aks-gpu.yaml", spec_,
                fs::copy_options::overwrite_existing);
  auto up = Aiconform("up");
  ASSERT_EQ(up.exit_code, 0) << up.err;

  json state = State();
  for (const char* f : {"managedgatewayapipreview", "managedgpuexperiencepreview"}) {
    bool registered = false;
    for (const auto& [id, s] : state["features"].items())
      registered |= id.find(f) != std::string::npos && s == "Registered";
    EXPECT_TRUE(registered) << f << ": " << state["features"].dump();
  }
  json pool;
  for (const auto& [id, r] : state["resources"].items()) {
    if (id.find("/agentPools/gpunp") != std::string::npos) pool = r;
  }
  ASSERT_TRUE(pool.is_object()) << state["resources"].dump(1);
  EXPECT_EQ(pool["properties"]["vmSize"], "Standard_NC6s_v3");
  EXPECT_EQ(pool["properties"]["gpuProfile"]["driver"], "Install");
  EXPECT_EQ(pool["properties"]["tags"]["EnableManagedGPUExperience"], "true");
  EXPECT_EQ(pool["properties"]["nodeTaints"], json::array({"sku=gpu:NoSchedule"}));
}

TEST_F(AksEndToEnd, RenamedPoolIsCreatedThenTheOldOneDeleted) {
  ASSERT_EQ(Aiconform("up").exit_code, 0);
  EditSpec("name: gpunp", "name: gpupool");

  auto plan = Aiconform("plan");
  ASSERT_EQ(plan.exit_code, 0) << plan.err;
  EXPECT_THAT(plan.out, ::testing::ContainsRegex("delete +Microsoft.ContainerService/"
                                                 "managedClusters/agentPools +gpunp"));
  EXPECT_THAT(plan.out, ::testing::ContainsRegex("create +Microsoft.ContainerService/"
                                                 "managedClusters/agentPools +gpupool"));
  EXPECT_THAT(plan.out, HasSubstr("1 to create, 0 to update, 0 to register, 1 to delete"));
  auto js = Aiconform("plan", {"-o", "json"});
  ASSERT_EQ(js.exit_code, 0) << js.err;
  json requests = json::parse(js.out)["requests"];
  ASSERT_EQ(requests.size(), 2u) << requests.dump(1);
  EXPECT_EQ(requests[1]["method"], "DELETE");
  EXPECT_THAT(requests[1]["path"].get<std::string>(), HasSubstr("/agentPools/gpunp?api-version="));

  auto up = Aiconform("up");
  ASSERT_EQ(up.exit_code, 0) << up.err;
  json state = State();
  std::string ids = state["resources"].dump();
  EXPECT_THAT(ids, HasSubstr("/agentPools/gpupool"));
  EXPECT_THAT(ids, Not(HasSubstr("/agentPools/gpunp")));
  // The new pool exists before the old one goes, and the system pool is left alone.
  json w = state["writes"];
  EXPECT_LT(WriteIndex(w, {"PUT", "/agentPools/gpupool"}), WriteIndex(w, {"DELETE", "gpunp"}));
  EXPECT_LT(WriteIndex(w, {"DELETE", "gpunp"}), w.size());
  EXPECT_EQ(WriteIndex(w, {"DELETE", "/agentPools/system"}), w.size());

  auto after = Aiconform("plan", {"-o", "json"});
  ASSERT_EQ(after.exit_code, 0) << after.err;
  EXPECT_TRUE(json::parse(after.out)["requests"].empty()) << after.out;
}

TEST_F(AksEndToEnd, PlanDeletesOnlyWhatTheSpecOwns) {
  ASSERT_EQ(Aiconform("up").exit_code, 0);
  const std::string rg =
      "/subscriptions/11111111-2222-3333-4444-555555555555/resourceGroups/aks-ai-conformant-dev-rg";
  const std::string cluster =
      rg + "/providers/Microsoft.ContainerService/managedClusters/aks-ai-conformant-dev";
  const std::string dcr =
      rg +
      "/providers/Microsoft.Insights/dataCollectionRules/MSProm-centralus-aks-ai-conformant-dev";
  auto rule_group = [&](const std::string& name, bool ours) {
    json body = {{"location", "centralus"},
                 {"properties",
                  {{"scopes", {cluster}}, {"rules", {{{"record", "a:b"}, {"expression", "up"}}}}}}};
    if (ours) body["tags"] = {{"aiconform-managed-by", "aks-ai-conformant-dev"}};
    auto r = emu_->Request("PUT",
                           rg + "/providers/Microsoft.AlertsManagement/prometheusRuleGroups/" +
                               name + "?api-version=2023-03-01",
                           body.dump());
    ASSERT_EQ(r->first, 201) << r->second.dump();
  };
  auto association = [&](const std::string& name, const std::string& rule) {
    json body = {{"properties", {{"dataCollectionRuleId", rule}}}};
    auto r =
        emu_->Request("PUT",
                      cluster + "/providers/Microsoft.Insights/dataCollectionRuleAssociations/" +
                          name + "?api-version=2024-03-11",
                      body.dump());
    ASSERT_EQ(r->first, 201) << r->second.dump();
  };
  // A group the spec once had, and one a colleague added by hand (enough for several pages).
  rule_group("OldRecordingRules", true);
  rule_group("TeamAlerts", false);
  association("old-association", dcr);
  association("team-association",
              "/subscriptions/other/resourceGroups/team/providers/"
              "Microsoft.Insights/dataCollectionRules/team");
  ASSERT_EQ(emu_->Request("PUT", cluster + "/agentPools/handmade?api-version=2026-02-01",
                          R"({"properties":{"vmSize":"Standard_D2s_v3","count":1}})")
                ->first,
            201);

  auto plan = Aiconform("plan", {"-o", "json"});
  ASSERT_EQ(plan.exit_code, 0) << plan.err;
  std::vector<std::string> deleted;
  json parsed = json::parse(plan.out);
  for (const auto& r : parsed["requests"]) {
    EXPECT_EQ(r["method"], "DELETE") << r.dump();
    deleted.push_back(r["path"]);
  }
  ASSERT_EQ(deleted.size(), 2u) << plan.out;
  EXPECT_THAT(deleted[0] + deleted[1], HasSubstr("prometheusRuleGroups/OldRecordingRules?"));
  EXPECT_THAT(deleted[0] + deleted[1],
              HasSubstr("dataCollectionRuleAssociations/old-association?"));

  ASSERT_EQ(Aiconform("up").exit_code, 0);
  std::string ids = State()["resources"].dump();
  EXPECT_THAT(ids, Not(HasSubstr("OldRecordingRules")));
  EXPECT_THAT(ids, Not(HasSubstr("old-association")));
  EXPECT_THAT(ids, HasSubstr("TeamAlerts"));
  EXPECT_THAT(ids, HasSubstr("team-association"));
  EXPECT_THAT(ids, HasSubstr("/agentPools/handmade"));
}

TEST_F(AksEndToEnd, StatusShowsEachResourcesStateAndTheClustersNodes) {
  auto before = Aiconform("status");
  EXPECT_EQ(before.exit_code, 3) << before.err;
  EXPECT_THAT(before.out,
              ::testing::ContainsRegex("managedClusters +aks-ai-conformant-dev +absent"));

  ASSERT_EQ(Aiconform("up").exit_code, 0);
  size_t requests = State()["requests"].size();
  auto table = Aiconform("status");
  ASSERT_EQ(table.exit_code, 0) << table.err << table.out;
  EXPECT_THAT(table.out, HasSubstr("power Running, Kubernetes 1.34.2, pool gpunp: 1 nodes, pool "
                                   "system: 2 nodes"));
  EXPECT_THAT(table.out, ::testing::ContainsRegex("Microsoft.Features/features +"
                                                  "ManagedGatewayAPIPreview +Registered"));

  auto js = Aiconform("status", {"-o", "json"});
  ASSERT_EQ(js.exit_code, 0) << js.err;
  json s = json::parse(js.out);
  EXPECT_EQ(s["healthy"], true);
  ASSERT_EQ(s["resources"].size(), 12u);
  for (const auto& r : s["resources"]) {
    EXPECT_TRUE(r["state"] == "Succeeded" || r["state"] == "Registered") << r.dump();
    if (r["key"] == "cluster") {
      EXPECT_EQ(r["powerState"], "Running");
      EXPECT_EQ(r["kubernetesVersion"], "1.34.2");
      EXPECT_EQ(r["nodeCounts"]["system"], 2);
    }
    if (r["key"] == "pool/gpunp") {
      EXPECT_EQ(r["nodeCount"], 1);
    }
  }
  // Status only reads.
  json after = State();
  for (size_t i = requests; i < after["requests"].size(); ++i)
    EXPECT_EQ(after["requests"][i].get<std::string>().rfind("GET ", 0), 0u) << after["requests"][i];
}

TEST_F(AksEndToEnd, DownDeletesTheResourceGroup) {
  ASSERT_EQ(Aiconform("up").exit_code, 0);
  auto down = Aiconform("down");
  ASSERT_EQ(down.exit_code, 0) << down.err;
  EXPECT_TRUE(State()["resources"].empty()) << State()["resources"].dump(1);
  // Features stay registered: aiconform unregisters nothing.
  EXPECT_THAT(State()["writes"].dump(), Not(HasSubstr("unregister")));
}

TEST_F(AksEndToEnd, DownLeavesAResourceGroupItDidNotCreate) {
  const std::string rg =
      "/subscriptions/11111111-2222-3333-4444-555555555555/resourceGroups/aks-ai-conformant-dev-rg";
  ASSERT_EQ(emu_->Request("PUT", rg + "?api-version=2024-11-01",
                          R"({"location":"centralus","tags":{"team":"data"}})")
                ->first,
            201);
  auto down = Aiconform("down");
  EXPECT_EQ(down.exit_code, 1);
  EXPECT_THAT(down.err, HasSubstr("is not tagged aiconform-managed-by=aks-ai-conformant-dev"));
  EXPECT_THAT(down.err, HasSubstr("--keep-group"));
  EXPECT_EQ(State()["resources"].size(), 1u);
  EXPECT_THAT(State()["writes"].dump(), Not(HasSubstr("DELETE")));

  // `up` builds the environment in that group without adopting it or touching its tags.
  auto plan = Aiconform("plan");
  ASSERT_EQ(plan.exit_code, 0) << plan.err;
  EXPECT_THAT(plan.out, HasSubstr("not created by aiconform: used as it is"));
  ASSERT_EQ(Aiconform("up").exit_code, 0);
  json state = State();
  EXPECT_EQ(state["resources"][rg]["tags"], json({{"team", "data"}}));
  size_t group_puts = 0;
  for (const auto& w : state["writes"])
    group_puts += w == "PUT " + rg;
  EXPECT_EQ(group_puts, 1u) << "only the test's own PUT";
  EXPECT_EQ(state["resources"].size(), 10u);
  EXPECT_EQ(Aiconform("down").exit_code, 1);
  ASSERT_EQ(Aiconform("down", {"--keep-group"}).exit_code, 0);
  EXPECT_EQ(State()["resources"].size(), 1u) << State()["resources"].dump(1);
}

TEST_F(AksEndToEnd, DownKeepGroupDeletesEachResourceInReverseOrder) {
  ASSERT_EQ(Aiconform("up").exit_code, 0);
  auto down = Aiconform("down", {"--keep-group"});
  ASSERT_EQ(down.exit_code, 0) << down.err;
  json state = State();
  ASSERT_EQ(state["resources"].size(), 1u) << state["resources"].dump(1);
  EXPECT_THAT(state["resources"].begin().key(),
              HasSubstr("/resourceGroups/aks-ai-conformant-dev-rg"));
  // The cluster goes only after everything that points at it.
  std::vector<std::string> deletes;
  for (const auto& w : state["writes"]) {
    if (w.get<std::string>().rfind("DELETE", 0) == 0) deletes.push_back(w);
  }
  auto pos = [&](const std::string& what) {
    for (size_t i = 0; i < deletes.size(); ++i) {
      if (deletes[i].find(what) != std::string::npos) return i;
    }
    return deletes.size();
  };
  // The cluster's own delete is the one whose path ends with its name.
  size_t cluster = deletes.size();
  const std::string cluster_suffix = "/managedClusters/aks-ai-conformant-dev";
  for (size_t i = 0; i < deletes.size(); ++i) {
    const std::string& d = deletes[i];
    if (d.size() > cluster_suffix.size() &&
        d.compare(d.size() - cluster_suffix.size(), cluster_suffix.size(), cluster_suffix) == 0) {
      cluster = i;
    }
  }
  ASSERT_LT(cluster, deletes.size()) << state["writes"].dump(1);
  EXPECT_LT(pos("prometheusRuleGroups"), cluster);
  EXPECT_LT(pos("/agentPools/gpunp"), cluster);
  EXPECT_LT(pos("configurationAccessEndpoint"), cluster);
  EXPECT_LT(pos("configurationAccessEndpoint"), pos("dataCollectionEndpoints"));
  EXPECT_LT(pos("dataCollectionRuleAssociations/MSProm"), pos("dataCollectionRules/"));
  EXPECT_LT(pos("dataCollectionRules/"), pos("dataCollectionEndpoints"));
  EXPECT_LT(pos("dataCollectionRules/"), pos("Microsoft.Monitor/accounts"));
  EXPECT_LT(pos("Microsoft.Monitor/accounts"), deletes.size());
  // Features and the provider stay registered: nothing is unregistered.
  EXPECT_THAT(state["writes"].dump(), Not(HasSubstr("unregister")));
  for (const auto& [id, s] : state["features"].items())
    EXPECT_EQ(s, "Registered") << id;
}

TEST_F(AksEndToEnd, UpUnderInjectedFaultsCreatesEachResourceExactlyOnce) {
  ASSERT_TRUE(
      emu_
          ->SetFaults(json::array({
              {{"match", "/managedClusters/"},
               {"method", "PUT"},
               {"kind", "429"},
               {"count", 1},
               {"retry_after", 1}},
              {{"match", "/dataCollectionRules/"},
               {"method", "PUT"},
               {"kind", "500"},
               {"count", 2}},
              {{"match", "/prometheusRuleGroups/"},
               {"method", "PUT"},
               {"kind", "drop"},
               {"count", 1}},
              {{"match", "/accounts/"}, {"method", "PUT"}, {"kind", "drop_after"}, {"count", 1}},
              {{"match", "/operations/"}, {"method", "GET"}, {"kind", "500"}, {"count", 2}},
              {{"match", "/agentPools/"},
               {"method", "PUT"},
               {"kind", "slow"},
               {"factor", 3},
               {"count", 1}},
          }))
          .ok());
  auto up = Aiconform("up");
  ASSERT_EQ(up.exit_code, 0) << up.err;
  json state = State();
  EXPECT_EQ(state["resources"].size(), 10u);
  ASSERT_EQ(state["creates"].size(), 10u) << state["creates"].dump(1);
  for (const auto& [id, n] : state["creates"].items())
    EXPECT_EQ(n, 1) << id;
  std::string requests = state["requests"].dump();
  EXPECT_THAT(requests, HasSubstr("dataCollectionRules"));
}

TEST_F(AksEndToEnd, ArmErrorsReachTheUserWithCodeAndMessage) {
  EditSpec("kubernetesVersion: 1.34.2", "kubernetesVersion: 1.34.2");
  ASSERT_TRUE(emu_->SetFaults(json::array({{{"match", "/managedClusters/"},
                                            {"method", "PUT"},
                                            {"kind", "500"},
                                            {"count", 100}}}))
                  .ok());
  env_["AIC_AZURE_POLL_INTERVAL_MS"] = "5";
  auto up = Aiconform("up");
  EXPECT_EQ(up.exit_code, 1);
  EXPECT_THAT(up.err, HasSubstr("aiconform: error: PUT"));
  EXPECT_THAT(up.err, HasSubstr("InternalServerError: injected"));
  // What did not depend on the cluster was still created.
  EXPECT_THAT(State()["resources"].dump(), HasSubstr("dataCollectionRules"));
}

TEST_F(AksEndToEnd, FailedOperationStopsDependentsAndTheNextUpRepairsIt) {
  ASSERT_TRUE(emu_->SetFaults(json::array({{{"match", "/managedClusters/"},
                                            {"method", "PUT"},
                                            {"kind", "fail"},
                                            {"code", "QuotaExceeded"},
                                            {"message", "no D-series cores left"},
                                            {"count", 1}}}))
                  .ok());
  auto up = Aiconform("up");
  EXPECT_EQ(up.exit_code, 1);
  EXPECT_THAT(up.err, HasSubstr("operation Failed: QuotaExceeded: no D-series cores left"));
  json state = State();
  EXPECT_THAT(state["resources"].dump(), Not(HasSubstr("/agentPools/gpunp")));
  EXPECT_THAT(state["resources"].dump(), Not(HasSubstr("prometheusRuleGroups")));

  auto plan = Aiconform("plan");
  ASSERT_EQ(plan.exit_code, 0) << plan.err;
  EXPECT_THAT(plan.out, HasSubstr("provisioningState: \"Failed\" -> \"Succeeded\""));
  auto again = Aiconform("up");
  ASSERT_EQ(again.exit_code, 0) << again.err;
  for (const auto& [id, r] : State()["resources"].items())
    EXPECT_EQ(r["provisioningState"], "Succeeded") << id;
  EXPECT_EQ(State()["resources"].size(), 10u);
}

TEST_F(AksEndToEnd, BadSpecsAreRejectedWithPositionsAndAllowedValues) {
  EditSpec("name: gpunp", "name: GPU_pool");
  EditSpec("kubernetesVersion: 1.34.2", "kubernetesVersion: 1.29.0");
  auto plan = Aiconform("plan", {"--offline"});
  EXPECT_EQ(plan.exit_code, 2);
  EXPECT_THAT(plan.err, HasSubstr(spec_ + ":"));
  EXPECT_THAT(plan.err, HasSubstr("^[a-z][a-z0-9]{0,11}$"));
  EXPECT_THAT(plan.err, HasSubstr("1.34 or later"));
  EXPECT_TRUE(State()["requests"].empty()) << "a bad spec must not reach ARM";
}

TEST_F(AksEndToEnd, OfflinePlanNeedsNoCredentialsAndPrintsExactRequests) {
  auto plan = RunCli({"plan", "--target", "aks", "-f", spec_, "--offline", "-o", "json"}, {});
  ASSERT_EQ(plan.exit_code, 0) << plan.err;
  json p = json::parse(plan.out);
  ASSERT_EQ(p["requests"].size(), 12u);
  const json& cluster = p["requests"][3];
  EXPECT_EQ(cluster["method"], "PUT");
  EXPECT_THAT(cluster["path"].get<std::string>(), HasSubstr("?api-version=2026-02-01"));
  EXPECT_EQ(cluster["body"]["properties"]["ingressProfile"]["gatewayAPI"]["installation"],
            "Standard");
  EXPECT_EQ(cluster["body"]["properties"]["azureMonitorProfile"]["metrics"]["kubeStateMetrics"]
                   ["metricLabelsAllowlist"],
            "namespaces=[kubernetes.io/metadata.name],pods=[app,app.kubernetes.io/name]");
  // Every body the plan prints is accepted by the emulator's contract checks.
  ASSERT_EQ(
      emu_->Request(
              "PUT",
              "/subscriptions/s/resourceGroups/aks-ai-conformant-dev-rg?api-version=2024-11-01",
              p["requests"][2]["body"].dump())
          ->first,
      201);
  auto put = emu_->Request("PUT",
                           std::regex_replace(cluster["path"].get<std::string>(),
                                              std::regex("\\{subscriptionId\\}"), "s"),
                           cluster["body"].dump());
  EXPECT_EQ(put->first, 201) << put->second.dump();
}

TEST_F(AksEndToEnd, EmulatorRejectsWhatTheApiDoesNotHave) {
  const std::string rg = "/subscriptions/s/resourceGroups/rg";
  ASSERT_EQ(
      emu_->Request("PUT", rg + "?api-version=2024-11-01", R"({"location":"centralus"})")->first,
      201);
  const std::string mc =
      rg + "/providers/Microsoft.ContainerService/managedClusters/c?api-version=";
  // The proof of concept's property.
  auto poc = emu_->Request(
      "PUT", mc + "2026-02-01",
      R"({"location":"centralus","properties":{"networkProfile":{"gatewayAPIEnabled":true}}})");
  EXPECT_EQ(poc->first, 400);
  EXPECT_THAT(poc->second.dump(), HasSubstr("gatewayAPIEnabled"));
  // A read-only field, a bad enum, an old API version, and an allow-list not in the API format.
  EXPECT_EQ(emu_->Request("PUT", mc + "2026-02-01",
                          R"({"location":"x","properties":{"provisioningState":"Succeeded"}})")
                ->first,
            400);
  EXPECT_EQ(emu_->Request("PUT", mc + "2026-02-01",
                          R"({"location":"x","properties":{"ingressProfile":{"gatewayAPI":)"
                          R"({"installation":"Enabled"}}}})")
                ->first,
            400);
  EXPECT_EQ(emu_->Request("PUT", mc + "2024-05-01", R"({"location":"x"})")->first, 400);
  EXPECT_EQ(emu_->Request("PUT", mc + "2026-02-01",
                          R"({"location":"x","properties":{"azureMonitorProfile":{"metrics":)"
                          R"({"enabled":true,"kubeStateMetrics":{"metricLabelsAllowlist":)"
                          R"("pods:app"}}}}})")
                ->first,
            400);
  EXPECT_EQ(emu_->Request("GET", mc + "2026-02-01", "", false)->first, 401);
  // Required fields: a tracked resource's location, a rule group's scopes, a mesh's mode.
  auto missing = emu_->Request("PUT", mc + "2026-02-01", R"({"properties":{}})");
  EXPECT_EQ(missing->first, 400);
  EXPECT_THAT(missing->second.dump(), HasSubstr("location: is required"));
  auto unscoped = emu_->Request(
      "PUT",
      rg + "/providers/Microsoft.AlertsManagement/prometheusRuleGroups/g?api-version=2023-03-01",
      R"({"location":"x","properties":{"rules":[{"record":"a:b","expression":"up"}]}})");
  EXPECT_EQ(unscoped->first, 400);
  EXPECT_THAT(unscoped->second.dump(), HasSubstr("scopes: is required"));
  EXPECT_EQ(emu_->Request("PUT", mc + "2026-02-01",
                          R"({"location":"x","properties":{"serviceMeshProfile":{}}})")
                ->first,
            400);
  // Types: a flag that is a number.
  EXPECT_EQ(
      emu_->Request("PUT", mc + "2026-02-01", R"({"location":"x","properties":{"enableRBAC":1}})")
          ->first,
      400);
}

TEST_F(AksEndToEnd, NoTokenOrSecretAppearsInAnyLog) {
  std::string log_file = emu_->dir() + "/aiconform.log";
  auto up = RunCli({"--log-level", "trace", "--log-file", log_file, "up", "--target", "aks", "-f",
                    spec_, "--arm-endpoint", emu_->endpoint(), "--ca-file", emu_->ca_file(),
                    "--kubeconfig-out", kubeconfig_},
                   env_);
  ASSERT_EQ(up.exit_code, 0) << up.err;
  std::string all = up.out + up.err + Slurp(log_file);
  // Each request's line names its client request id and the correlation id ARM answered with.
  const std::string uuid = "[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}";
  EXPECT_THAT(all, ::testing::ContainsRegex("PUT /subscriptions/[^ ]+/managedClusters/[^ ]+ -> "
                                            "201 \\(client-request-id " +
                                            uuid + ", correlation-id " + uuid))
      << "the log must show requests";
  EXPECT_THAT(all, Not(HasSubstr(emu_->token())));
  EXPECT_THAT(all, Not(HasSubstr("emulator-secret")));
  // The cluster credentials go to the kubeconfig file and nowhere else.
  EXPECT_THAT(Slurp(kubeconfig_), HasSubstr("token: kubeconfig-user-token-7c41e9d2b805"));
  EXPECT_THAT(all, Not(HasSubstr("kubeconfig-user-token")));
  // The token was in use all along.
  EXPECT_THAT(State()["auth_headers"].dump(), HasSubstr(emu_->token()));
}

TEST_F(AksEndToEnd, CertificateWorkloadAndManagedIdentitiesAllAuthenticate) {
  std::string pem = emu_->dir() + "/sp.pem";
  ASSERT_EQ(std::system(("openssl req -x509 -newkey rsa:2048 -nodes -days 1 -subj /CN=sp "
                         "-keyout " +
                         pem + ".key -out " + pem + ".crt >/dev/null 2>&1 && cat " + pem + ".key " +
                         pem + ".crt > " + pem)
                            .c_str()),
            0);
  auto env = env_;
  env.erase("AZURE_CLIENT_SECRET");
  env["AZURE_CLIENT_CERTIFICATE_PATH"] = pem;
  env_ = env;
  EXPECT_EQ(Aiconform("plan").exit_code, 0) << "certificate";

  std::ofstream(emu_->dir() + "/federated") << "header.payload.signature\n";
  env.erase("AZURE_CLIENT_CERTIFICATE_PATH");
  env["AZURE_FEDERATED_TOKEN_FILE"] = emu_->dir() + "/federated";
  env_ = env;
  EXPECT_EQ(Aiconform("plan").exit_code, 0) << "workload identity";

  env.erase("AZURE_FEDERATED_TOKEN_FILE");
  env.erase("AZURE_TENANT_ID");
  env["AZURE_POD_IDENTITY_AUTHORITY_HOST"] = emu_->endpoint();
  env_ = env;
  auto mi = Aiconform("plan");
  EXPECT_EQ(mi.exit_code, 0) << "managed identity: " << mi.err;

  env.erase("AZURE_POD_IDENTITY_AUTHORITY_HOST");
  env["PATH"] = "/nonexistent";
  env_ = env;
  auto none = Aiconform("plan", {"--auth", "managed-identity"});
  EXPECT_NE(none.exit_code, 0);
}

}  // namespace
}  // namespace aic::azure::testing
