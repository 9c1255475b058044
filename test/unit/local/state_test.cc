#include "local/state.h"

#include <filesystem>

#include <gtest/gtest.h>

namespace aic::local {
namespace {

TEST(State, RecordRoundTrips) {
  Layout layout{(std::filesystem::temp_directory_path() / "aic-state-test").string()};
  ClusterRecord r;
  r.name = "c1";
  r.bin_dir = "/bin";
  r.ports = {6443, 2379, 2380, 10257, 10259};
  r.advertise_address = "192.0.2.2";
  r.components.push_back({"etcd", {1234, 987654}, "3.6.16"});
  r.nodes.push_back({"gpunp-1", "gpunp", 101, {10, 11}, {20, 21}, {30, 31}});
  r.host_settings["kernel.panic"] = "1";
  ASSERT_TRUE(SaveRecord(layout, r).ok());
  auto without_pools = LoadRecord(layout);
  ASSERT_TRUE(without_pools.ok());
  EXPECT_FALSE(without_pools->pools.has_value());  // no spec applied yet
  r.pools = DefaultLocalSpec(2).pools;
  ASSERT_TRUE(SaveRecord(layout, r).ok());

  auto loaded = LoadRecord(layout);
  ASSERT_TRUE(loaded.ok());
  EXPECT_EQ(loaded->ports.scheduler, 10259);
  ASSERT_NE(loaded->Find("etcd"), nullptr);
  EXPECT_EQ(loaded->Find("etcd")->process.start_ticks, 987654ULL);
  EXPECT_EQ(loaded->Find("etcd")->version, "3.6.16");
  ASSERT_NE(loaded->FindNode("gpunp-1"), nullptr);
  EXPECT_EQ(loaded->FindNode("gpunp-1")->index, 101);
  EXPECT_EQ(loaded->FindNode("gpunp-1")->kube_proxy.start_ticks, 31ULL);
  EXPECT_EQ(loaded->host_settings["kernel.panic"], "1");
  ASSERT_TRUE(loaded->pools.has_value());
  EXPECT_EQ(*loaded->pools, *r.pools);
  std::filesystem::remove_all(layout.root);
}

TEST(State, MissingAndCorruptRecordsAreDistinguished) {
  Layout layout{(std::filesystem::temp_directory_path() / "aic-state-test-2").string()};
  std::filesystem::remove_all(layout.root);
  EXPECT_EQ(LoadRecord(layout).status().code(), Code::kNotFound);
  ASSERT_TRUE(WriteFile(layout.state_file(), "{not json").ok());
  auto r = LoadRecord(layout);
  EXPECT_EQ(r.status().code(), Code::kInvalidArgument);
  EXPECT_NE(r.status().message().find(layout.state_file()), std::string::npos);
  std::filesystem::remove_all(layout.root);
}

TEST(State, DefaultDirectoriesFollowTheEnvironment) {
  setenv("AICONFORM_STATE_DIR", "/srv/aic", 1);
  setenv("AICONFORM_BIN_DIR", "/opt/kube", 1);
  EXPECT_EQ(DefaultStateDir("dev"), "/srv/aic/dev");
  EXPECT_EQ(DefaultBinDir(), "/opt/kube");
  unsetenv("AICONFORM_STATE_DIR");
  unsetenv("AICONFORM_BIN_DIR");
  EXPECT_NE(DefaultBinDir().find("/aiconform/bin/v1.34.2"), std::string::npos);
}

}  // namespace
}  // namespace aic::local
