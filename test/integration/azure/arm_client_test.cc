// The ARM client and the engine in-process against the emulator: behaviour that needs a clock,
// such as slowing down when ARM reports a nearly spent rate-limit bucket, or `up` starting a
// write before every read has returned.
#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <spdlog/sinks/ostream_sink.h>

#include "azure/arm.h"
#include "azure/engine.h"
#include "common/log.h"
#include "emulator_process.h"

namespace aic::azure::testing {
namespace {

using std::chrono::milliseconds;
using json = nlohmann::json;

constexpr char kSubscription[] = "11111111-2222-3333-4444-555555555555";
constexpr char kGroup[] =
    "/subscriptions/11111111-2222-3333-4444-555555555555/resourceGroups/ratelimit-rg";
constexpr milliseconds kPause{600};

class ArmClientAgainstEmulator : public ::testing::Test {
 protected:
  void SetUp() override {
    auto emu = EmulatorProcess::Start(0.01);
    ASSERT_TRUE(emu.ok()) << emu.status().message();
    emu_ = std::move(*emu);
    for (const auto& [k, v] : emu_->SecretEnv())
      setenv(k.c_str(), v.c_str(), 1);
    http::TlsOptions tls;
    tls.ca_file = emu_->ca_file();
    auto tokens = MakeTokenSource(ctx_, {"env", tls});
    ASSERT_TRUE(tokens.ok()) << tokens.status().message();
    ArmOptions opts;
    opts.endpoint = emu_->endpoint();
    opts.tls = tls;
    opts.poll_interval = milliseconds(10);
    opts.ratelimit_pause = kPause;
    auto arm = ArmClient::Create(opts, std::move(*tokens));
    ASSERT_TRUE(arm.ok()) << arm.status().message();
    arm_ = std::move(*arm);
    ASSERT_TRUE(arm_->Put(ctx_, kGroup, "2024-11-01", {{"location", "centralus"}}).ok());
  }

  // How long one GET of the resource group takes.
  milliseconds TimedGet() {
    auto start = Clock::now();
    EXPECT_TRUE(arm_->Get(ctx_, kGroup, "2024-11-01").ok());
    return std::chrono::duration_cast<milliseconds>(Clock::now() - start);
  }

  void ReportOnNextGets(const std::string& header, const std::string& left, int count) {
    ASSERT_TRUE(emu_->SetFaults(json::array({{{"match", "/resourceGroups/ratelimit-rg"},
                                              {"method", "GET"},
                                              {"kind", "ratelimit"},
                                              {"count", count},
                                              {"headers", {{header, left}}}}}))
                    .ok());
  }

  // A second client whose own backoff is 1-5 ms, so any longer wait is the server's asking.
  std::unique_ptr<ArmClient> QuickRetryClient() {
    ArmOptions opts;
    opts.endpoint = emu_->endpoint();
    opts.tls.ca_file = emu_->ca_file();
    opts.retry = {milliseconds(1), milliseconds(5000), 2.0, 4};
    opts.poll_interval = milliseconds(10);
    auto tokens = MakeTokenSource(ctx_, {"env", opts.tls});
    EXPECT_TRUE(tokens.ok()) << tokens.status().message();
    auto arm = ArmClient::Create(opts, std::move(*tokens));
    EXPECT_TRUE(arm.ok()) << arm.status().message();
    return std::move(*arm);
  }

  Context ctx_ = Context::WithTimeout(std::chrono::minutes(1));
  std::unique_ptr<EmulatorProcess> emu_;
  std::unique_ptr<ArmClient> arm_;
};

TEST_F(ArmClientAgainstEmulator, FewReadsLeftDelayTheNextReadButNotWrites) {
  ReportOnNextGets("x-ms-ratelimit-remaining-subscription-reads", "3", 1);
  EXPECT_LT(TimedGet(), kPause / 2);  // the answer that reports 3 left

  auto start = Clock::now();
  ASSERT_TRUE(arm_->Put(ctx_, kGroup, "2024-11-01", {{"location", "centralus"}}).ok());
  EXPECT_LT(Clock::now() - start, kPause / 2) << "writes draw from another bucket";

  EXPECT_GE(TimedGet(), kPause - milliseconds(50));
  // The bucket is no longer reported low: reads go out at once again.
  EXPECT_LT(TimedGet(), kPause / 2);
}

TEST_F(ArmClientAgainstEmulator, PlentyLeftDoesNotSlowDown) {
  ReportOnNextGets("x-ms-ratelimit-remaining-subscription-reads", "11999", 3);
  for (int i = 0; i < 3; ++i)
    EXPECT_LT(TimedGet(), kPause / 2);
}

TEST_F(ArmClientAgainstEmulator, ProviderLimitDelaysCallsToThatProviderOnly) {
  ReportOnNextGets("x-ms-ratelimit-remaining-resource", "Microsoft.Resources/GetGroup3Min;1", 1);
  EXPECT_LT(TimedGet(), kPause / 2);
  // A resource group read does not go to a /providers/ path, so it draws from "reads" only.
  EXPECT_LT(TimedGet(), kPause / 2);
  auto start = Clock::now();
  ASSERT_TRUE(arm_->Get(ctx_,
                        "/subscriptions/11111111-2222-3333-4444-555555555555/providers/"
                        "Microsoft.Resources/unknown",
                        "2024-11-01")
                  .ok());
  EXPECT_GE(Clock::now() - start, kPause - milliseconds(50));
}

TEST_F(ArmClientAgainstEmulator, SlowingDownIsLoggedOnce) {
  std::ostringstream lines;
  auto sink = std::make_shared<spdlog::sinks::ostream_sink_mt>(lines);
  auto logger = log::Get("azure");
  logger->sinks().push_back(sink);
  ASSERT_TRUE(log::SetLevel("info"));
  ReportOnNextGets("x-ms-ratelimit-remaining-subscription-reads", "2", 3);
  for (int i = 0; i < 4; ++i)
    TimedGet();
  logger->sinks().pop_back();
  log::SetLevel("warn");
  std::string text = lines.str();
  size_t first = text.find("ARM rate limit");
  ASSERT_NE(first, std::string::npos) << text;
  EXPECT_EQ(text.find("ARM rate limit", first + 1), std::string::npos) << text;
  EXPECT_THAT(text, ::testing::HasSubstr("2 reads left"));
}

// Index of the first request the emulator served that contains all of `parts`, or their count.
size_t RequestIndex(const json& requests, std::initializer_list<const char*> parts) {
  for (size_t i = 0; i < requests.size(); ++i) {
    std::string r = requests[i];
    bool all = true;
    for (const char* p : parts)
      all &= r.find(p) != std::string::npos;
    if (all) return i;
  }
  return requests.size();
}

std::vector<Resource> DefaultResources() {
  return BuildResources(*ParseSpec("kind: AksEnvironment\n", "inline"), kSubscription);
}

TEST_F(ArmClientAgainstEmulator, UpWritesAsSoonAsItsOwnReadReturnsNotAfterTheSlowestRead) {
  // The workspace's read is answered a second late; the feature needs only its own read.
  ASSERT_TRUE(emu_->SetFaults(json::array({{{"match", "/Microsoft.Monitor/accounts/"},
                                            {"method", "GET"},
                                            {"kind", "delay"},
                                            {"seconds", 1},
                                            {"count", 1}}}))
                  .ok());
  auto resources = DefaultResources();
  ApplyOptions apply;
  apply.poll_interval = milliseconds(10);
  auto changes = PlanAndApply(ctx_, *arm_, resources, {}, apply);
  ASSERT_TRUE(changes.ok()) << changes.status().message();

  json requests = (*emu_->State())["requests"];
  size_t register_feature = RequestIndex(requests, {"POST ", "ManagedGatewayAPIPreview/register"});
  size_t read_workspace = RequestIndex(requests, {"GET ", "/Microsoft.Monitor/accounts/"});
  ASSERT_LT(read_workspace, requests.size()) << requests.dump(1);
  EXPECT_LT(register_feature, read_workspace) << requests.dump(1);
  // The registered feature makes the provider re-register, after it.
  EXPECT_LT(register_feature,
            RequestIndex(requests, {"POST ", "Microsoft.ContainerService/register"}));
  EXPECT_LT(RequestIndex(requests, {"POST ", "Microsoft.ContainerService/register"}),
            requests.size());
  ASSERT_EQ(changes->size(), resources.size());
  for (const auto& c : *changes) {
    EXPECT_TRUE(c.action == Action::kCreate || c.action == Action::kRegister) << c.resource.key;
  }
}

TEST_F(ArmClientAgainstEmulator, UpAgainDecidesLikePlanAndSendsNoWrite) {
  auto resources = DefaultResources();
  ApplyOptions apply;
  apply.poll_interval = milliseconds(10);
  ASSERT_TRUE(PlanAndApply(ctx_, *arm_, resources, {}, apply).ok());

  int writes = arm_->writes();
  auto again = PlanAndApply(ctx_, *arm_, resources, {}, apply);
  ASSERT_TRUE(again.ok()) << again.status().message();
  EXPECT_EQ(arm_->writes(), writes);
  auto plan = Plan(ctx_, *arm_, resources);
  ASSERT_TRUE(plan.ok()) << plan.status().message();
  ASSERT_EQ(again->size(), plan->size());
  for (size_t i = 0; i < plan->size(); ++i) {
    EXPECT_EQ((*again)[i].action, Action::kUnchanged) << (*again)[i].resource.key;
    EXPECT_EQ((*plan)[i].action, Action::kUnchanged) << (*plan)[i].resource.key;
  }
}

TEST_F(ArmClientAgainstEmulator, UpWaitsForAClusterStillBeingCreatedInsteadOfFailingItsPool) {
  // An earlier, interrupted run left the cluster Creating, with a second to go.
  auto resources = DefaultResources();
  auto find = [&](const std::string& key) {
    return *std::find_if(resources.begin(), resources.end(),
                         [&](const Resource& r) { return r.key == key; });
  };
  for (const char* key : {"group", "cluster"}) {
    const Resource& r = find(key);
    ASSERT_TRUE(emu_->SetFaults(json::array({{{"match", r.name},
                                              {"method", "PUT"},
                                              {"kind", "slow"},
                                              {"factor", 10},
                                              {"count", 1}}}))
                    .ok());
    auto put = emu_->Request("PUT", r.id + "?api-version=" + r.api_version, r.body.dump());
    ASSERT_EQ(put->first, 201) << put->second.dump();
  }

  ApplyOptions apply;
  apply.poll_interval = milliseconds(10);
  auto changes = PlanAndApply(ctx_, *arm_, resources, {}, apply);
  ASSERT_TRUE(changes.ok()) << changes.status().message();
  json state = *emu_->State();
  EXPECT_EQ(state["creates"][find("cluster").id], 1) << "the cluster is not sent again";
  EXPECT_EQ(state["resources"][find("pool/gpunp").id]["provisioningState"], "Succeeded");
  EXPECT_EQ(state["resources"][find("cluster").id]["provisioningState"], "Succeeded");
}

TEST_F(ArmClientAgainstEmulator, UpWithAFailingReadCreatesWhatDoesNotDependOnIt) {
  ASSERT_TRUE(emu_->SetFaults(json::array({{{"match", "/Microsoft.Monitor/accounts/"},
                                            {"method", "GET"},
                                            {"kind", "500"},
                                            {"count", 100}}}))
                  .ok());
  auto arm = QuickRetryClient();
  ApplyOptions apply;
  apply.poll_interval = milliseconds(10);
  auto changes = PlanAndApply(ctx_, *arm, DefaultResources(), {}, apply);
  ASSERT_FALSE(changes.ok());
  EXPECT_THAT(changes.status().message(), ::testing::HasSubstr("reading workspace"));

  std::string ids = (*emu_->State())["resources"].dump();
  EXPECT_THAT(ids, ::testing::HasSubstr("/agentPools/gpunp"));
  EXPECT_THAT(ids, ::testing::HasSubstr("dataCollectionEndpoints"));
  EXPECT_THAT(ids, ::testing::Not(::testing::HasSubstr("dataCollectionRules/")));
  EXPECT_THAT(ids, ::testing::Not(::testing::HasSubstr("prometheusRuleGroups")));
}

TEST_F(ArmClientAgainstEmulator, TooManyRequestsWaitsAsLongAsRetryAfterAsks) {
  auto arm = QuickRetryClient();
  auto timed_get = [&] {
    auto start = Clock::now();
    EXPECT_TRUE(arm->Get(ctx_, kGroup, "2024-11-01").ok());
    return std::chrono::duration_cast<milliseconds>(Clock::now() - start);
  };
  ASSERT_TRUE(emu_->SetFaults(json::array({{{"match", "/resourceGroups/ratelimit-rg"},
                                            {"kind", "429"},
                                            {"retry_after", 1},
                                            {"count", 1}}}))
                  .ok());
  EXPECT_GE(timed_get(), milliseconds(950));
  // Without Retry-After the client's own (here tiny) backoff applies.
  ASSERT_TRUE(emu_
                  ->SetFaults(json::array(
                      {{{"match", "/resourceGroups/ratelimit-rg"}, {"kind", "500"}, {"count", 2}}}))
                  .ok());
  EXPECT_LT(timed_get(), milliseconds(500));
}

TEST_F(ArmClientAgainstEmulator, LongRunningOperationsArePolledWhenRetryAfterSays) {
  // The workspace's operation ends after 10 ms; its answer asks for the first poll in 1 s.
  const std::string workspace = std::string(kGroup) + "/providers/Microsoft.Monitor/accounts/ws";
  auto timed_put = [&] {
    auto start = Clock::now();
    auto put = arm_->Put(ctx_, workspace, "2023-04-03", {{"location", "centralus"}});
    EXPECT_TRUE(put.ok()) << put.status().message();
    return std::chrono::duration_cast<milliseconds>(Clock::now() - start);
  };
  ASSERT_TRUE(emu_->SetFaults(json::array({{{"match", "/accounts/ws"},
                                            {"method", "PUT"},
                                            {"kind", "ratelimit"},
                                            {"count", 1},
                                            {"headers", {{"retry-after-ms", "1000"}}}}}))
                  .ok());
  EXPECT_GE(timed_put(), milliseconds(950));
  // With the emulator's own hint (10 ms) the same PUT is done at once.
  EXPECT_LT(timed_put(), milliseconds(500));
}

TEST_F(ArmClientAgainstEmulator, CredentialChainTriesEnvironmentWorkloadIdentityImdsThenCli) {
  // Every credential is usable at first; each step takes the first one in the chain away.
  const std::string dir = emu_->dir();
  std::ofstream(dir + "/federated") << "header.payload.signature\n";
  std::ofstream(dir + "/az") << "#!/bin/sh\necho '{\"accessToken\": \"from-az\", "
                                "\"expires_on\": 4102444800}'\n";
  std::filesystem::permissions(dir + "/az", std::filesystem::perms::owner_all);
  std::string old_path = std::getenv("PATH");
  setenv("PATH", (dir + ":" + old_path).c_str(), 1);
  setenv("AZURE_FEDERATED_TOKEN_FILE", (dir + "/federated").c_str(), 1);
  setenv("AZURE_POD_IDENTITY_AUTHORITY_HOST", emu_->endpoint().c_str(), 1);
  http::TlsOptions tls;
  tls.ca_file = emu_->ca_file();
  // The credential the chain picks, and the token it gets for ARM.
  auto pick = [&]() -> std::pair<std::string, std::string> {
    auto source = MakeTokenSource(ctx_, {"", tls});
    if (!source.ok()) return {source.status().message(), ""};
    auto token = (*source)->Fetch(ctx_, "https://management.azure.com/.default");
    return {(*source)->Name(), token.ok() ? token->token : token.status().message()};
  };

  EXPECT_EQ(pick(), std::make_pair(std::string("service principal"), emu_->token()));
  unsetenv("AZURE_CLIENT_SECRET");
  EXPECT_EQ(pick(), std::make_pair(std::string("workload identity"), emu_->token()));
  unsetenv("AZURE_FEDERATED_TOKEN_FILE");
  EXPECT_EQ(pick(), std::make_pair(std::string("managed identity"), emu_->token()));
  // Nothing listens on port 1: IMDS is unreachable, so the chain goes on to the CLI.
  setenv("AZURE_POD_IDENTITY_AUTHORITY_HOST", "http://127.0.0.1:1", 1);
  EXPECT_EQ(pick(), std::make_pair(std::string("Azure CLI"), std::string("from-az")));

  setenv("PATH", old_path.c_str(), 1);
  unsetenv("AZURE_POD_IDENTITY_AUTHORITY_HOST");
}

}  // namespace
}  // namespace aic::azure::testing
