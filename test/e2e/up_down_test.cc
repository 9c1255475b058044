// `aiconform up / status / down` on the local target, run as a user runs them.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <thread>

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "e2e/cli_runner.h"
#include "integration/local_cluster.h"
#include "local/state.h"

namespace aic::testing {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;
using ::testing::HasSubstr;

// What lies outside a cluster's state directory that `up` could plausibly touch.
std::map<std::string, std::vector<std::string>> MachineFiles() {
  const char* home = getenv("HOME");
  std::string h = home ? home : "/root";
  std::map<std::string, std::vector<std::string>> snapshot;
  for (const std::string& dir : {std::string("/tmp"), std::string("/var/tmp"), std::string("/run"),
                                 h, h + "/.kube", h + "/.local/state/aiconform"}) {
    snapshot[dir] = ListDir(dir);
  }
  return snapshot;
}

class UpDown : public ::testing::Test {
 protected:
  void SetUp() override {
    state_ = MakeTempDir("aic-e2e-");
    fs::remove(state_);  // `up` must create it itself
    before_ = MachineFiles();
  }
  void TearDown() override {
    RunCli({"down", "--state-dir", state_, "--purge"});
    for (int pid : ProcessesMentioning(state_))
      kill(pid, SIGKILL);
  }

  std::vector<std::string> Flags() { return {"--state-dir", state_}; }
  CliResult Cli(std::vector<std::string> args) {
    for (const auto& f : Flags())
      args.push_back(f);
    return RunCli(args);
  }
  json StatusJson() {
    CliResult r = Cli({"status", "-o", "json"});
    return json::parse(r.out, nullptr, false);
  }
  std::map<std::string, int> Pids() {
    std::map<std::string, int> pids;
    json status = StatusJson();  // keeps the document alive while it is iterated
    for (const auto& c : status["components"])
      pids[c["name"]] = c["pid"];
    return pids;
  }

  std::string state_;
  std::map<std::string, std::vector<std::string>> before_;
};

TEST_F(UpDown, UpStartsAHealthyControlPlaneAndDownLeavesNothingBehind) {
  CliResult up = Cli({"up", "--workers", "0"});
  ASSERT_EQ(up.exit_code, 0) << up.err;
  EXPECT_THAT(up.out, HasSubstr(state_ + "/kubeconfig"));
  EXPECT_THAT(up.err, HasSubstr("starting kube-apiserver"));

  json status = StatusJson();
  ASSERT_TRUE(status.is_object());
  EXPECT_TRUE(status["healthy"].get<bool>());
  ASSERT_EQ(status["components"].size(), 4u);
  for (const auto& c : status["components"]) {
    EXPECT_TRUE(c["healthy"].get<bool>()) << c.dump();
    EXPECT_GT(c["pid"].get<int>(), 0);
  }
  EXPECT_EQ(status["components"][1]["version"], "v1.34.2");
  auto record = local::LoadRecord(local::Layout{state_});
  ASSERT_TRUE(record.ok());
  local::Ports ports = record->ports;

  CliResult down = Cli({"down"});
  ASSERT_EQ(down.exit_code, 0) << down.err;
  EXPECT_THAT(ProcessesMentioning(state_), ::testing::IsEmpty());
  for (int port : {ports.apiserver, ports.etcd_client, ports.etcd_peer, ports.controller_manager,
                   ports.scheduler}) {
    EXPECT_FALSE(local::PortInUse(port)) << "port " << port << " still listens";
  }
  auto after = MachineFiles();
  // Only additions are checked: entries other programs remove meanwhile are not ours to judge.
  for (auto& [dir, names] : after) {
    std::vector<std::string> added;
    std::set_difference(names.begin(), names.end(), before_[dir].begin(), before_[dir].end(),
                        std::back_inserter(added));
    std::erase(added, fs::path(state_).filename().string());
    EXPECT_THAT(added, ::testing::IsEmpty()) << "new entries in " << dir;
  }

  EXPECT_EQ(Cli({"status"}).exit_code, 3);
  ASSERT_EQ(Cli({"down", "--purge"}).exit_code, 0);
  EXPECT_FALSE(fs::exists(state_));
}

TEST_F(UpDown, UpOnARunningClusterChangesNothing) {
  ASSERT_EQ(Cli({"up", "--workers", "0"}).exit_code, 0);
  auto pids = Pids();

  CliResult again = Cli({"up", "--workers", "0"});
  EXPECT_EQ(again.exit_code, 0);
  EXPECT_THAT(again.err, HasSubstr("already running; nothing changed"));
  EXPECT_EQ(Pids(), pids);
}

TEST_F(UpDown, StatusReportsADeadComponentAndUpRestoresOnlyIt) {
  ASSERT_EQ(Cli({"up", "--workers", "0"}).exit_code, 0);
  auto pids = Pids();
  ASSERT_GT(pids["kube-scheduler"], 1);
  kill(pids["kube-scheduler"], SIGKILL);
  auto gone = [&] {
    auto live = ProcessesMentioning(state_);
    return std::find(live.begin(), live.end(), pids["kube-scheduler"]) == live.end();
  };
  for (int i = 0; i < 200 && !gone(); ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  ASSERT_TRUE(gone());

  CliResult status = Cli({"status"});
  EXPECT_EQ(status.exit_code, 3);
  EXPECT_THAT(status.out, HasSubstr("not running"));

  CliResult up = Cli({"up", "--workers", "0"});
  ASSERT_EQ(up.exit_code, 0) << up.err;
  EXPECT_THAT(up.err, HasSubstr("starting kube-scheduler"));
  auto restored = Pids();
  EXPECT_EQ(restored["kube-apiserver"], pids["kube-apiserver"]);
  EXPECT_NE(restored["kube-scheduler"], pids["kube-scheduler"]);
  EXPECT_EQ(Cli({"status"}).exit_code, 0);
}

// A bin directory whose kube-apiserver fails at once, with a message in its log.
std::string BrokenBinDir() {
  std::string dir = MakeTempDir("aic-e2e-bin-");
  for (const char* b : {"etcd", "kube-controller-manager", "kube-scheduler"}) {
    fs::create_symlink(local::DefaultBinDir() + "/" + b, dir + "/" + b);
  }
  std::ofstream(dir + "/kube-apiserver") << "#!/bin/sh\necho 'Error: unknown flag: --boom' >&2\n"
                                            "exit 1\n";
  fs::permissions(dir + "/kube-apiserver", fs::perms::owner_all);
  return dir;
}

TEST_F(UpDown, ComponentThatFailsToStartIsShownAndEverythingIsStopped) {
  std::string bin = BrokenBinDir();
  CliResult up = Cli({"up", "--workers", "0", "--bin-dir", bin});
  EXPECT_EQ(up.exit_code, 1);
  EXPECT_THAT(up.err, HasSubstr("kube-apiserver exited during start-up"));
  EXPECT_THAT(up.err, HasSubstr("unknown flag: --boom"));
  EXPECT_THAT(ProcessesMentioning(state_), ::testing::IsEmpty());
  EXPECT_FALSE(fs::exists(state_)) << "a failed first start leaves no state behind";
  fs::remove_all(bin);
}

TEST_F(UpDown, MissingBinaryIsNamedWithTheWayToGetIt) {
  std::string bin = MakeTempDir("aic-e2e-empty-");
  CliResult up = Cli({"up", "--workers", "0", "--bin-dir", bin});
  EXPECT_EQ(up.exit_code, 2);
  EXPECT_THAT(up.err, HasSubstr(bin + "/etcd not found"));
  EXPECT_THAT(up.err, HasSubstr("scripts/build-kube.sh"));
  EXPECT_FALSE(fs::exists(state_));
  fs::remove_all(bin);
}

TEST_F(UpDown, InterruptedUpStopsWhatItStarted) {
  std::string err = state_ + ".err";
  int pid = StartCli({"up", "--workers", "0", "--state-dir", state_}, err);
  // Interrupt once the apiserver is being started: etcd is then already running.
  for (int i = 0; i < 500; ++i) {
    std::ifstream in(err);
    std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    if (text.find("starting kube-apiserver") != std::string::npos) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  ASSERT_GT(pid, 1);
  kill(pid, SIGINT);
  EXPECT_EQ(WaitCli(pid), 130);
  EXPECT_THAT(ProcessesMentioning(state_), ::testing::IsEmpty());
  EXPECT_FALSE(fs::exists(state_));
  fs::remove(err);
}

TEST_F(UpDown, StatusWithoutAClusterIsAClearError) {
  CliResult status = Cli({"status"});
  EXPECT_EQ(status.exit_code, 1);
  EXPECT_THAT(status.err, HasSubstr("aiconform: error: no cluster state at " + state_));
}

// A socket listening on 127.0.0.1:`port` until destroyed: someone else's server on a port.
class Squatter {
 public:
  explicit Squatter(int port) : fd_(socket(AF_INET, SOCK_STREAM, 0)) {
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(static_cast<uint16_t>(port));
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    int on = 1;  // the stopped cluster's connections may linger in TIME_WAIT
    if (fd_ >= 0) setsockopt(fd_, SOL_SOCKET, SO_REUSEADDR, &on, sizeof(on));
    ok_ = fd_ >= 0 && bind(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) == 0 &&
          listen(fd_, 1) == 0;
  }
  ~Squatter() {
    if (fd_ >= 0) close(fd_);
  }
  bool ok() const { return ok_; }

 private:
  int fd_;
  bool ok_ = false;
};

TEST_F(UpDown, StoppedClusterWhosePortsWereTakenComesBackOnFreeOnes) {
  ASSERT_EQ(Cli({"up", "--workers", "0"}).exit_code, 0);
  ASSERT_EQ(Cli({"down"}).exit_code, 0);
  json before = json::parse(std::ifstream(state_ + "/cluster.json"), nullptr, false);
  int apiserver = before["ports"]["apiserver"], etcd = before["ports"]["etcdClient"];
  Squatter a(apiserver), e(etcd);
  ASSERT_TRUE(a.ok() && e.ok());

  CliResult up = Cli({"up"});
  ASSERT_EQ(up.exit_code, 0) << up.err;
  json after = json::parse(std::ifstream(state_ + "/cluster.json"), nullptr, false);
  EXPECT_NE(after["ports"]["apiserver"].get<int>(), apiserver);
  EXPECT_NE(after["ports"]["etcdClient"].get<int>(), etcd);
  EXPECT_EQ(after["ports"]["scheduler"], before["ports"]["scheduler"]) << "a free port moved";
  json status = StatusJson();
  ASSERT_TRUE(status.is_object());
  EXPECT_TRUE(status["healthy"].get<bool>()) << status.dump(2);
  std::string kubectl = local::DefaultBinDir() + "/kubectl --kubeconfig " + state_ + "/kubeconfig";
  EXPECT_EQ(system((kubectl + " get namespace default >/dev/null").c_str()), 0)
      << "the kubeconfig does not follow the apiserver to its new port";
}

}  // namespace
}  // namespace aic::testing
