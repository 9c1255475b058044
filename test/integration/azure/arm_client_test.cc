// The ARM client in-process against the emulator: behaviour that needs a clock, such as slowing
// down when ARM reports a nearly spent rate-limit bucket.
#include <cstdlib>
#include <sstream>

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <spdlog/sinks/ostream_sink.h>

#include "azure/arm.h"
#include "common/log.h"
#include "emulator_process.h"

namespace aic::azure::testing {
namespace {

using std::chrono::milliseconds;
using json = nlohmann::json;

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

}  // namespace
}  // namespace aic::azure::testing
