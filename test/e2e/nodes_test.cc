// Worker nodes of the local cluster, end to end: `aiconform up` with its default two workers,
// then workloads through kubectl as a user runs them. Needs root, the Kubernetes binaries and
// the node binaries (scripts/build-node.sh). Each test binary run brings one cluster up and
// takes it down again, also when a test fails.
#include <signal.h>
#include <stdio.h>
#include <sys/wait.h>

#include <filesystem>
#include <fstream>
#include <functional>
#include <set>
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
using std::chrono::milliseconds;
using std::chrono::seconds;
using ::testing::HasSubstr;
using ::testing::Not;

struct ShellResult {
  int code = -1;
  std::string out;  // stdout and stderr
};

ShellResult Shell(const std::string& command) {
  ShellResult r;
  FILE* pipe = popen((command + " 2>&1").c_str(), "r");
  if (pipe == nullptr) return r;
  char buf[4096];
  for (size_t n; (n = fread(buf, 1, sizeof(buf), pipe)) > 0;)
    r.out.append(buf, n);
  int status = pclose(pipe);
  r.code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return r;
}

// Polls `done` every 250 ms until it holds or `limit` passes.
bool WaitFor(std::chrono::milliseconds limit, const std::function<bool()>& done) {
  auto until = std::chrono::steady_clock::now() + limit;
  while (std::chrono::steady_clock::now() < until) {
    if (done()) return true;
    std::this_thread::sleep_for(milliseconds(250));
  }
  return done();
}

// A new path for a state directory that `up` must create itself.
std::string UnusedStateDir(const std::string& prefix) {
  std::string dir = MakeTempDir(prefix);
  fs::remove(dir);
  return dir;
}

void KillProcessesMentioning(const std::string& needle) {
  for (int pid : ProcessesMentioning(needle))
    kill(pid, SIGKILL);
}

// One cluster with two workers for every test of the suite.
class Nodes : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    state_ = new std::string(UnusedStateDir("aic-nodes-"));
    CliResult up = RunCli({"up", "--state-dir", *state_});
    up_ok_ = up.exit_code == 0;
    if (!up_ok_) std::cerr << "up failed:\n" << up.err << "\n";
  }
  static void TearDownTestSuite() {
    CliResult down = RunCli({"down", "--state-dir", *state_, "--purge"});
    if (down.exit_code != 0) std::cerr << "down failed:\n" << down.err << "\n";
    KillProcessesMentioning(*state_);
    delete state_;
  }
  void SetUp() override { ASSERT_TRUE(up_ok_) << "the cluster did not come up"; }

  static std::string Kubectl() {
    return local::DefaultBinDir() + "/kubectl --kubeconfig " + *state_ + "/kubeconfig ";
  }
  static ShellResult K(const std::string& args) { return Shell(Kubectl() + args); }
  static json KJson(const std::string& args) {
    ShellResult r = K(args + " -o json");
    return r.code == 0 ? json::parse(r.out, nullptr, false) : json();
  }
  // Applies a manifest (JSON or YAML) written to a file of the state directory.
  static ShellResult Apply(const std::string& name, const std::string& manifest) {
    std::string path = *state_ + "/test-" + name + ".yaml";
    std::ofstream(path) << manifest;
    return K("apply -f " + path);
  }
  // Names of the nodes that run Running pods matching `selector` in `ns`.
  static std::multiset<std::string> RunningPodNodes(const std::string& ns,
                                                    const std::string& selector) {
    std::multiset<std::string> nodes;
    json pods = KJson("get pods -n " + ns + " -l " + selector);
    for (const auto& p : pods.value("items", json::array())) {
      if (p["metadata"].contains("deletionTimestamp")) continue;
      if (p["status"].value("phase", "") == "Running") {
        nodes.insert(p["spec"].value("nodeName", ""));
      }
    }
    return nodes;
  }

  static std::string* state_;
  static bool up_ok_;
};

std::string* Nodes::state_ = nullptr;
bool Nodes::up_ok_ = false;

// A probe-image Deployment; `extra` is merged into the pod spec.
std::string Deployment(const std::string& name, int replicas, const std::string& command,
                       const json& extra = json::object()) {
  json spec = {{"containers",
                {{{"name", "main"},
                  {"image", "aiconform.local/probe:1"},
                  {"imagePullPolicy", "Never"},
                  {"command", {"sh", "-c", command}}}}},
               {"terminationGracePeriodSeconds", 1}};
  spec.update(extra);
  json d = {{"apiVersion", "apps/v1"},
            {"kind", "Deployment"},
            {"metadata", {{"name", name}, {"namespace", "default"}}},
            {"spec",
             {{"replicas", replicas},
              {"selector", {{"matchLabels", {{"app", name}}}}},
              {"template", {{"metadata", {{"labels", {{"app", name}}}}}, {"spec", spec}}}}}};
  return d.dump();
}

// Tolerates the accelerator pool's taint and spreads one per node.
json SpreadOverAllWorkers(const std::string& app) {
  return {{"tolerations",
           {{{"key", "sku"}, {"operator", "Equal"}, {"value", "gpu"}, {"effect", "NoSchedule"}}}},
          {"topologySpreadConstraints",
           {{{"maxSkew", 1},
             {"topologyKey", "kubernetes.io/hostname"},
             {"whenUnsatisfiable", "DoNotSchedule"},
             {"labelSelector", {{"matchLabels", {{"app", app}}}}}}}}};
}

TEST_F(Nodes, AllNodesAreReadyWithTheirPoolsLabelsAndTaints) {
  json nodes = KJson("get nodes");
  ASSERT_EQ(nodes["items"].size(), 2u);
  std::map<std::string, json> by_name;
  for (const auto& n : nodes["items"])
    by_name[n["metadata"]["name"]] = n;
  ASSERT_TRUE(by_name.count("system-1") && by_name.count("gpunp-1"));
  for (const auto& [name, n] : by_name) {
    bool ready = false;
    for (const auto& c : n["status"]["conditions"]) {
      if (c["type"] == "Ready") ready = c["status"] == "True";
    }
    EXPECT_TRUE(ready) << name;
    EXPECT_FALSE(n["spec"].value("podCIDR", "").empty()) << name;
  }
  const json& sys = by_name["system-1"]["metadata"]["labels"];
  EXPECT_EQ(sys["agentpool"], "system");
  EXPECT_EQ(sys["kubernetes.azure.com/agentpool"], "system");
  EXPECT_EQ(sys["kubernetes.azure.com/mode"], "system");
  EXPECT_FALSE(by_name["system-1"]["spec"].contains("taints"));
  const json& gpu = by_name["gpunp-1"]["metadata"]["labels"];
  EXPECT_EQ(gpu["agentpool"], "gpunp");
  EXPECT_EQ(gpu["kubernetes.azure.com/agentpool"], "gpunp");
  json taints = by_name["gpunp-1"]["spec"]["taints"];
  ASSERT_EQ(taints.size(), 1u);
  EXPECT_EQ(taints[0]["key"], "sku");
  EXPECT_EQ(taints[0]["value"], "gpu");
  EXPECT_EQ(taints[0]["effect"], "NoSchedule");

  CliResult status = RunCli({"status", "--state-dir", *state_});
  EXPECT_EQ(status.exit_code, 0) << status.out << status.err;
  EXPECT_THAT(status.out, HasSubstr("gpunp-1"));
  // Which /24 a node gets depends on the other clusters on the machine; status shows the one
  // its Node object carries.
  std::string gpu_cidr = by_name["gpunp-1"]["spec"].value("podCIDR", "");
  EXPECT_THAT(gpu_cidr, ::testing::MatchesRegex("10\\.244\\.[0-9]+\\.0/24"));
  EXPECT_NE(gpu_cidr, by_name["system-1"]["spec"].value("podCIDR", ""));
  EXPECT_THAT(status.out, HasSubstr(gpu_cidr));
}

TEST_F(Nodes, DeploymentOfThreeSpreadsOverBothWorkersAndRuns) {
  ASSERT_EQ(
      Apply("spread", Deployment("spread", 3, "sleep 3600", SpreadOverAllWorkers("spread"))).code,
      0);
  std::multiset<std::string> nodes;
  EXPECT_TRUE(WaitFor(seconds(60), [&] {
    nodes = RunningPodNodes("default", "app=spread");
    return nodes.size() == 3;
  }));
  EXPECT_EQ(nodes.count("system-1") + nodes.count("gpunp-1"), 3u);
  EXPECT_GE(nodes.count("system-1"), 1u);
  EXPECT_GE(nodes.count("gpunp-1"), 1u);
  K("delete deployment spread --wait=false");
}

TEST_F(Nodes, PodReachesAServiceByDnsNameOnAnotherNode) {
  json on_system = {{"nodeSelector", {{"agentpool", "system"}}}};
  ASSERT_EQ(Apply("web",
                  Deployment("web", 1,
                             "echo hello-from-web > /www/index.html; exec httpd -f -p 8080 -h /www",
                             on_system))
                .code,
            0);
  ASSERT_EQ(K("expose deployment web --port 80 --target-port 8080").code, 0);
  json on_gpu = {{"nodeSelector", {{"agentpool", "gpunp"}}},
                 {"tolerations", {{{"key", "sku"}, {"operator", "Exists"}}}}};
  ASSERT_EQ(Apply("client", Deployment("client", 1, "sleep 3600", on_gpu)).code, 0);
  ASSERT_TRUE(WaitFor(seconds(60), [&] {
    return RunningPodNodes("default", "app=web").count("system-1") == 1 &&
           RunningPodNodes("default", "app=client").count("gpunp-1") == 1;
  }));

  // Through the Service's name (search path) and its full name, from the other node.
  ShellResult r;
  EXPECT_TRUE(WaitFor(seconds(30), [&] {
    r = K("exec deploy/client -- wget -q -O - http://web/");
    return r.code == 0;
  })) << r.out;
  EXPECT_THAT(r.out, HasSubstr("hello-from-web"));
  r = K("exec deploy/client -- wget -q -O - http://web.default.svc.cluster.local/");
  EXPECT_EQ(r.code, 0) << r.out;
  EXPECT_THAT(r.out, HasSubstr("hello-from-web"));
  K("delete deployment web client --wait=false");
  K("delete service web --wait=false");
}

TEST_F(Nodes, LogsExecAndPortForwardGoThroughTheApiserver) {
  ASSERT_EQ(Apply("talker", Deployment("talker", 1,
                                       "echo line-one; echo line-two; mkdir /w; echo forwarded > "
                                       "/w/index.html; exec httpd -f -p 8080 -h /w"))
                .code,
            0);
  ASSERT_TRUE(
      WaitFor(seconds(60), [&] { return RunningPodNodes("default", "app=talker").size() == 1; }));
  ShellResult logs;
  EXPECT_TRUE(WaitFor(seconds(10), [&] {
    logs = K("logs deploy/talker");
    return logs.out.find("line-two") != std::string::npos;
  })) << logs.out;
  EXPECT_THAT(logs.out, HasSubstr("line-one\nline-two"));
  ShellResult exec = K("exec deploy/talker -- sh -c 'echo $((6*7)) from $(hostname)'");
  EXPECT_EQ(exec.code, 0) << exec.out;
  EXPECT_THAT(exec.out, HasSubstr("42 from talker-"));

  // port-forward on a port the kernel picks, read back from kubectl's own message.
  std::string out = *state_ + "/port-forward.out";
  ShellResult forwarded =
      Shell(Kubectl() + "port-forward deploy/talker :8080 >" + out + " 2>&1 & pf=$!; " +
            "for i in $(seq 100); do grep -q Forwarding " + out + " && break; sleep 0.1; done; " +
            "port=$(sed -n 's/.*127.0.0.1:\\([0-9]*\\) .*/\\1/p' " + out + " | head -n 1); " +
            "busybox wget -q -O - http://127.0.0.1:$port/; rc=$?; kill $pf; exit $rc");
  EXPECT_EQ(forwarded.code, 0) << forwarded.out;
  EXPECT_THAT(forwarded.out, HasSubstr("forwarded"));
  K("delete deployment talker --wait=false");
}

TEST_F(Nodes, ContainerOverItsMemoryLimitIsOomKilled) {
  json pod = {{"apiVersion", "v1"},
              {"kind", "Pod"},
              {"metadata", {{"name", "hog"}, {"namespace", "default"}}},
              {"spec",
               {{"restartPolicy", "Never"},
                {"containers",
                 {{{"name", "hog"},
                   {"image", "aiconform.local/probe:1"},
                   {"imagePullPolicy", "Never"},
                   // dd holds a block of bs bytes in memory: 64 MiB against a 16 MiB limit.
                   {"command", {"dd", "if=/dev/zero", "of=/dev/null", "bs=64M", "count=4"}},
                   {"resources", {{"limits", {{"memory", "16Mi"}}}}}}}}}}};
  ASSERT_EQ(Apply("hog", pod.dump()).code, 0);
  std::string reason;
  int exit_code = 0;
  EXPECT_TRUE(WaitFor(seconds(60), [&] {
    json p = KJson("get pod hog");
    for (const auto& cs : p["status"].value("containerStatuses", json::array())) {
      const json state = cs.value("state", json::object());
      if (!state.contains("terminated")) continue;
      reason = state["terminated"].value("reason", "");
      exit_code = state["terminated"].value("exitCode", 0);
      return true;
    }
    return false;
  }));
  EXPECT_EQ(reason, "OOMKilled");
  EXPECT_EQ(exit_code, 137);
  K("delete pod hog --wait=false");
}

bool NodeReady(const json& node) {
  for (const auto& c : node["status"].value("conditions", json::array())) {
    if (c["type"] == "Ready") return c["status"] == "True";
  }
  return false;
}

TEST_F(Nodes, NodesAreAddedToAPoolAndDrainedAwayWhileTheClusterRuns) {
  CliResult unknown = RunCli({"node", "add", "--state-dir", *state_, "--pool", "nope"});
  EXPECT_EQ(unknown.exit_code, 2);
  EXPECT_THAT(unknown.err, HasSubstr("no pool \"nope\"; its pools: system, gpunp"));

  CliResult add = RunCli({"node", "add", "--state-dir", *state_, "--pool", "gpunp", "-o", "json"});
  ASSERT_EQ(add.exit_code, 0) << add.err;
  EXPECT_EQ(json::parse(add.out, nullptr, false), json({{"added", {"gpunp-2"}}})) << add.out;
  json node = KJson("get node gpunp-2");
  EXPECT_TRUE(NodeReady(node)) << node.dump();
  EXPECT_EQ(node["metadata"]["labels"].value("agentpool", ""), "gpunp");
  EXPECT_EQ(node["spec"]["taints"][0].value("key", ""), "sku");

  // A pod placed on the new node runs there.
  json pod = {{"apiVersion", "v1"},
              {"kind", "Pod"},
              {"metadata", {{"name", "on-new-node"}, {"namespace", "default"}}},
              {"spec",
               {{"nodeSelector", {{"kubernetes.io/hostname", "gpunp-2"}}},
                {"tolerations", {{{"key", "sku"}, {"operator", "Exists"}}}},
                {"terminationGracePeriodSeconds", 1},
                {"containers",
                 {{{"name", "main"},
                   {"image", "aiconform.local/probe:1"},
                   {"imagePullPolicy", "Never"},
                   {"command", {"sleep", "3600"}}}}}}}};
  ASSERT_EQ(Apply("on-new-node", pod.dump()).code, 0);
  EXPECT_TRUE(WaitFor(seconds(60), [&] {
    return KJson("get pod on-new-node")["status"].value("phase", "") == "Running";
  }));

  // The grown pool is what the cluster runs now: a plain `up` keeps it.
  CliResult again = RunCli({"up", "--state-dir", *state_});
  EXPECT_EQ(again.exit_code, 0) << again.err;
  EXPECT_THAT(again.err, HasSubstr("nothing changed"));

  CliResult missing = RunCli({"node", "delete", "--state-dir", *state_, "gpunp-9"});
  EXPECT_EQ(missing.exit_code, 2);
  EXPECT_THAT(missing.err, HasSubstr("node \"gpunp-9\" is not a node of this cluster"));

  CliResult del = RunCli({"node", "delete", "--state-dir", *state_, "gpunp-2"});
  ASSERT_EQ(del.exit_code, 0) << del.err;
  EXPECT_NE(K("get node gpunp-2").code, 0) << "the Node object is still there";
  EXPECT_TRUE(WaitFor(seconds(30), [&] { return K("get pod on-new-node").code != 0; }))
      << "the drained pod is still there";
  EXPECT_FALSE(fs::exists(*state_ + "/nodes/gpunp-2"));
  EXPECT_EQ(Shell("ip netns list").out.find("gpunp-2"), std::string::npos);
  CliResult status = RunCli({"status", "--state-dir", *state_});
  EXPECT_EQ(status.exit_code, 0) << status.out;
  EXPECT_THAT(status.out, Not(HasSubstr("gpunp-2")));
  EXPECT_EQ(KJson("get nodes")["items"].size(), 2u);
}

TEST_F(Nodes, BadNodeRequestsAreRefusedAndChangeNothing) {
  CliResult both = RunCli({"up", "--state-dir", *state_, "-f",
                           AIC_SOURCE_DIR "/examples/local.yaml", "--workers", "1"});
  EXPECT_EQ(both.exit_code, 2);
  EXPECT_THAT(both.err, HasSubstr("-f and --workers both describe the nodes"));

  std::string bad_spec = *state_ + "/test-bad-spec.yaml";
  std::ofstream(bad_spec) << "pools:\n  - name: system\n    count: 1\n";
  CliResult no_system = RunCli({"up", "--state-dir", *state_, "-f", bad_spec});
  EXPECT_EQ(no_system.exit_code, 2);
  EXPECT_THAT(no_system.err, HasSubstr(bad_spec + ": no node in a pool with mode system"));

  CliResult zero =
      RunCli({"node", "add", "--state-dir", *state_, "--pool", "gpunp", "--count", "0"});
  EXPECT_EQ(zero.exit_code, 2);
  EXPECT_THAT(zero.err, HasSubstr("--count: expected 1 to 99"));

  std::string elsewhere = *state_ + "/no-cluster-here";
  CliResult none = RunCli({"node", "delete", "--state-dir", elsewhere, "gpunp-1"});
  EXPECT_EQ(none.exit_code, 2);
  EXPECT_THAT(none.err, HasSubstr("node delete: no local cluster"));
  EXPECT_FALSE(fs::exists(elsewhere));

  json nodes = KJson("get nodes");
  EXPECT_EQ(nodes["items"].size(), 2u);
  for (const auto& n : nodes["items"])
    EXPECT_TRUE(NodeReady(n)) << n["metadata"]["name"];
}

// Last in the suite: it kills a kubelet, and `up` brings it back.
TEST_F(Nodes, KilledKubeletMakesItsNodeNotReadyAndItsPodsMoveElsewhere) {
  // Tolerating an unreachable node for 2 s instead of the default 300 s makes the eviction quick.
  json extra = SpreadOverAllWorkers("mover");
  extra["topologySpreadConstraints"][0]["whenUnsatisfiable"] = "ScheduleAnyway";
  for (const char* taint : {"node.kubernetes.io/unreachable", "node.kubernetes.io/not-ready"}) {
    extra["tolerations"].push_back({{"key", taint},
                                    {"operator", "Exists"},
                                    {"effect", "NoExecute"},
                                    {"tolerationSeconds", 2}});
  }
  ASSERT_EQ(Apply("mover", Deployment("mover", 2, "sleep 3600", extra)).code, 0);
  ASSERT_TRUE(WaitFor(seconds(60), [&] {
    auto nodes = RunningPodNodes("default", "app=mover");
    return nodes.count("gpunp-1") == 1 && nodes.count("system-1") == 1;
  }));

  auto record = local::LoadRecord(local::Layout{*state_});
  ASSERT_TRUE(record.ok());
  local::NodeRecord* gpu = record->FindNode("gpunp-1");
  ASSERT_NE(gpu, nullptr);
  ASSERT_EQ(kill(gpu->kubelet.pid, SIGKILL), 0);

  CliResult status = RunCli({"status", "--state-dir", *state_, "-o", "json"});
  EXPECT_EQ(status.exit_code, 3) << status.out;
  json s = json::parse(status.out, nullptr, false);
  for (const auto& n : s.value("nodes", json::array())) {
    if (n["name"] == "gpunp-1") {
      EXPECT_FALSE(n["kubelet"].get<bool>());
    }
  }

  EXPECT_TRUE(WaitFor(seconds(60), [&] {
    json n = KJson("get node gpunp-1");
    for (const auto& c : n["status"].value("conditions", json::array())) {
      if (c["type"] == "Ready") return c["status"] != "True";
    }
    return false;
  })) << "gpunp-1 stayed Ready";
  EXPECT_TRUE(WaitFor(seconds(60), [&] {
    return RunningPodNodes("default", "app=mover").count("system-1") == 2;
  })) << "the evicted pod was not rescheduled on system-1";

  CliResult up = RunCli({"up", "--state-dir", *state_});
  EXPECT_EQ(up.exit_code, 0) << up.err;
  EXPECT_THAT(up.err, HasSubstr("gpunp-1 kubelet"));
  status = RunCli({"status", "--state-dir", *state_});
  EXPECT_EQ(status.exit_code, 0) << status.out;
  K("delete deployment mover --wait=false");
}

// What of the machine a cluster with nodes could touch, outside its state directory.
std::map<std::string, std::string> MachineState() {
  std::map<std::string, std::string> m;
  m["netns"] = Shell("ip netns list").out;
  m["links"] = Shell("ip -o link show | cut -d: -f2 | grep -v '^ *$'").out;
  m["routes"] = Shell("ip route show").out;
  m["iptables"] = Shell("iptables-save | grep -v '^#'").out;
  m["mounts"] = Shell("cut -d' ' -f5 /proc/self/mountinfo | sort").out;
  m["cgroups"] = Shell("ls -d /sys/fs/cgroup/*/aic* 2>/dev/null").out;
  m["sysctls"] = Shell(
                     "sysctl net.ipv4.ip_forward vm.overcommit_memory vm.panic_on_oom kernel.panic "
                     "kernel.panic_on_oops kernel.keys.root_maxkeys kernel.keys.root_maxbytes")
                     .out;
  for (const char* dir : {"/run", "/run/containerd", "/var/lib/cni", "/var/log", "/var/log/pods",
                          "/var/log/containers", "/var/lib"}) {
    auto entries = ListDir(dir);
    std::string joined;
    for (const auto& e : entries)
      joined += e + "\n";
    m[dir] = joined;
  }
  return m;
}

// Compares the machine with a MachineState() taken before; `when` prefixes each difference.
void ExpectMachineAsBefore(const std::map<std::string, std::string>& before,
                           const std::string& when = "") {
  auto after = MachineState();
  for (const auto& [what, value] : before)
    EXPECT_EQ(after[what], value) << when << what << " changed";
}

TEST(NodeCycles, FiveUpDownCyclesLeaveNothingBehind) {
  std::string state = UnusedStateDir("aic-cycles-");
  auto before = MachineState();
  for (int cycle = 1; cycle <= 5; ++cycle) {
    CliResult up = RunCli({"up", "--state-dir", state});
    ASSERT_EQ(up.exit_code, 0) << "cycle " << cycle << ": " << up.err;
    std::vector<std::string> args = {"down", "--state-dir", state};
    if (cycle == 5) args.push_back("--purge");
    CliResult down = RunCli(args);
    ASSERT_EQ(down.exit_code, 0) << "cycle " << cycle << ": " << down.err;
    ExpectMachineAsBefore(before, "cycle " + std::to_string(cycle) + ": ");
    EXPECT_TRUE(ProcessesMentioning(state).empty()) << "cycle " << cycle;
  }
  RunCli({"down", "--state-dir", state, "--purge"});
  KillProcessesMentioning(state);
  EXPECT_FALSE(fs::exists(state));
}

// Takes the clusters in `dirs` down, purged, when a test ends, however it ends (an ASSERT
// returns early): a test's cluster must never outlive it.
class ClustersTeardown {
 public:
  explicit ClustersTeardown(std::vector<std::string> dirs) : dirs_(std::move(dirs)) {}
  ~ClustersTeardown() {
    for (const auto& dir : dirs_) {
      if (fs::exists(dir)) RunCli({"down", "--state-dir", dir, "--purge"});
      KillProcessesMentioning(dir);
      fs::remove(dir + ".err");
    }
  }

 private:
  std::vector<std::string> dirs_;
};

// The pod CIDRs `status -o json` reports for a cluster's nodes.
std::vector<std::string> PodCidrs(const std::string& state) {
  CliResult status = RunCli({"status", "--state-dir", state, "-o", "json"});
  std::vector<std::string> cidrs;
  json j = json::parse(status.out, nullptr, false);
  if (!j.is_object()) return cidrs;
  for (const auto& n : j.value("nodes", json::array()))
    cidrs.push_back(n.value("podCIDR", ""));
  return cidrs;
}

// Two clusters on one machine, as after `make run` followed by `make test`: node names are the
// same in both, addresses and kernel names must not be.
TEST(TwoClusters, RunSideBySideAndStoppingOneLeavesTheOtherWorking) {
  std::string a = UnusedStateDir("aic-two-a-"), b = UnusedStateDir("aic-two-b-");
  auto before = MachineState();
  ClustersTeardown teardown({a, b});

  CliResult up_a = RunCli({"up", "--state-dir", a, "--name", "first", "--workers", "1"});
  ASSERT_EQ(up_a.exit_code, 0) << up_a.err;
  CliResult up_b = RunCli({"up", "--state-dir", b, "--name", "second", "--workers", "1"});
  EXPECT_EQ(up_b.exit_code, 0) << up_b.err;
  std::vector<std::string> cidrs_a = PodCidrs(a), cidrs_b = PodCidrs(b);
  ASSERT_EQ(cidrs_a.size(), 1u);
  ASSERT_EQ(cidrs_b.size(), 1u);
  EXPECT_NE(cidrs_a[0], cidrs_b[0]) << "both clusters' nodes route the same pod CIDR";

  // The first cluster stops; the second keeps forwarding, its node, and its pods' traffic.
  CliResult down_a = RunCli({"down", "--state-dir", a, "--purge"});
  EXPECT_EQ(down_a.exit_code, 0) << down_a.err;
  EXPECT_NE(Shell("sysctl -n net.ipv4.ip_forward").out.find('1'), std::string::npos)
      << "stopping one cluster turned forwarding off under the other";
  std::string kb = local::DefaultBinDir() + "/kubectl --kubeconfig " + b + "/kubeconfig ";
  ShellResult run = Shell(kb +
                          "run survivor --image=aiconform.local/probe:1 --image-pull-policy=Never "
                          "--restart=Never -- sleep 3600");
  EXPECT_EQ(run.code, 0) << run.out;
  bool running = WaitFor(seconds(60), [&] {
    return Shell(kb + "get pod survivor -o jsonpath={.status.phase}").out == "Running";
  });
  EXPECT_TRUE(running) << Shell(kb + "describe pod survivor").out;
  ShellResult exec = Shell(kb + "exec survivor -- echo through-the-node");
  EXPECT_NE(exec.out.find("through-the-node"), std::string::npos) << exec.out;

  CliResult down_b = RunCli({"down", "--state-dir", b, "--purge"});
  EXPECT_EQ(down_b.exit_code, 0) << down_b.err;
  ExpectMachineAsBefore(before);
}

// Two clusters started in the same moment choose their node indexes one after the other.
TEST(TwoClusters, StartedAtOnceBothComeUpOnTheirOwnAddresses) {
  std::string a = UnusedStateDir("aic-race-a-"), b = UnusedStateDir("aic-race-b-");
  auto before = MachineState();
  ClustersTeardown teardown({a, b});

  int pa = StartCli({"up", "--state-dir", a, "--workers", "1"}, a + ".err");
  int pb = StartCli({"up", "--state-dir", b, "--workers", "1"}, b + ".err");
  ASSERT_GT(pa, 1);
  ASSERT_GT(pb, 1);
  EXPECT_EQ(WaitCli(pa), 0) << Shell("cat " + a + ".err").out;
  EXPECT_EQ(WaitCli(pb), 0) << Shell("cat " + b + ".err").out;
  std::vector<std::string> cidrs_a = PodCidrs(a), cidrs_b = PodCidrs(b);
  ASSERT_EQ(cidrs_a.size(), 1u);
  ASSERT_EQ(cidrs_b.size(), 1u);
  EXPECT_NE(cidrs_a[0], cidrs_b[0]);

  for (const std::string& dir : {a, b}) {
    CliResult down = RunCli({"down", "--state-dir", dir, "--purge"});
    EXPECT_EQ(down.exit_code, 0) << down.err;
  }
  ExpectMachineAsBefore(before);
}

// Clusters under the default state root see each other's recorded nodes even when stopped, so
// a cluster that comes back finds its addresses free.
TEST(TwoClusters, AStoppedClusterKeepsItsAddressesForWhenItComesBack) {
  std::string root = MakeTempDir("aic-two-root-");
  struct Cleanup {
    std::string root;
    ~Cleanup() {
      unsetenv("AICONFORM_STATE_DIR");
      fs::remove_all(root);
    }
  } cleanup{root};
  ClustersTeardown teardown({root + "/one", root + "/two"});  // runs before `cleanup`
  setenv("AICONFORM_STATE_DIR", root.c_str(), 1);
  CliResult up_a = RunCli({"up", "--name", "one", "--workers", "1"});
  EXPECT_EQ(up_a.exit_code, 0) << up_a.err;
  std::vector<std::string> cidrs_a = PodCidrs(root + "/one");
  CliResult down_a = RunCli({"down", "--name", "one"});
  EXPECT_EQ(down_a.exit_code, 0) << down_a.err;
  CliResult stopped = RunCli({"status", "--name", "one"});
  EXPECT_EQ(stopped.exit_code, 3) << stopped.err;
  EXPECT_THAT(stopped.out, HasSubstr("not running"));
  EXPECT_THAT(stopped.out, HasSubstr("system-1"));

  CliResult up_b = RunCli({"up", "--name", "two", "--workers", "1"});
  EXPECT_EQ(up_b.exit_code, 0) << up_b.err;
  CliResult again = RunCli({"up", "--name", "one"});
  EXPECT_EQ(again.exit_code, 0) << again.err;
  EXPECT_EQ(PodCidrs(root + "/one"), cidrs_a);
  std::vector<std::string> cidrs_b = PodCidrs(root + "/two");
  ASSERT_EQ(cidrs_b.size(), 1u);
  EXPECT_NE(cidrs_b, cidrs_a);

  for (const char* name : {"two", "one"}) {
    CliResult down = RunCli({"down", "--name", name, "--purge"});
    EXPECT_EQ(down.exit_code, 0) << down.err;
  }
}

// A brand-new cluster whose nodes cannot start does not stay behind as a control plane alone.
TEST(FailedUp, NewClusterWhoseNodesCannotStartIsRemovedWhole) {
  std::string state = UnusedStateDir("aic-failed-up-");
  ClustersTeardown teardown({state});
  std::string fake = MakeTempDir("aic-fake-containerd-");
  for (const char* name : {"containerd", "containerd-shim-runc-v2", "ctr"}) {
    std::ofstream(fake + "/" + name)
        << "#!/bin/sh\necho refusing to start for a test >&2\nexit 1\n";
    fs::permissions(fake + "/" + name, fs::perms::owner_all);
  }
  auto before = MachineState();

  setenv("AICONFORM_CONTAINERD_DIR", fake.c_str(), 1);
  CliResult up = RunCli({"up", "--state-dir", state, "--workers", "1"});
  unsetenv("AICONFORM_CONTAINERD_DIR");

  EXPECT_EQ(up.exit_code, 1) << up.err;
  EXPECT_NE(up.err.find("node system-1: containerd"), std::string::npos) << up.err;
  EXPECT_TRUE(ProcessesMentioning(state).empty()) << "the control plane was left running";
  EXPECT_FALSE(fs::exists(state)) << "the new cluster's state directory was left behind";
  ExpectMachineAsBefore(before);
  fs::remove_all(fake);
}

// Ctrl-C while the nodes start: the nodes, the control plane and the new state all go.
TEST(FailedUp, InterruptedWhileNodesStartStopsEverything) {
  std::string state = UnusedStateDir("aic-interrupted-");
  ClustersTeardown teardown({state});
  std::string err = state + ".err";
  auto before = MachineState();
  int pid = StartCli({"up", "--state-dir", state, "--workers", "1"}, err);
  ASSERT_GT(pid, 1);
  bool starting = WaitFor(seconds(60), [&] {
    std::ifstream in(err);
    std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    return text.find("starting system-1") != std::string::npos;
  });
  EXPECT_TRUE(starting) << "up never reached the nodes";
  kill(pid, SIGINT);

  EXPECT_EQ(WaitCli(pid), 130);
  EXPECT_TRUE(ProcessesMentioning(state).empty());
  EXPECT_FALSE(fs::exists(state));
  ExpectMachineAsBefore(before);
}

}  // namespace
}  // namespace aic::testing
