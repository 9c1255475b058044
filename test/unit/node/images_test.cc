#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "local/images/catalog.h"
#include "local/images/digest.h"
#include "local/images/oci.h"
#include "local/images/tar.h"

namespace aic::images {
namespace {

namespace fs = std::filesystem;

class TempDir {
 public:
  TempDir() {
    std::string tmpl = (fs::temp_directory_path() / "aic-images-test-XXXXXX").string();
    path_ = mkdtemp(tmpl.data());
  }
  ~TempDir() { fs::remove_all(path_); }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

void WriteText(const std::string& path, const std::string& text) {
  std::ofstream(path, std::ios::binary) << text;
}

// Extracts `archive` with the system tar into `dir`, the way any other reader would.
void Extract(const std::string& archive, const std::string& dir) {
  fs::create_directories(dir);
  std::string cmd = "tar -xf '" + archive + "' -C '" + dir + "'";
  ASSERT_EQ(std::system(cmd.c_str()), 0) << cmd;
}

TEST(TarWriterTest, HeaderHasUstarMagicSizeAndValidChecksum) {
  TarWriter tar;
  ASSERT_TRUE(tar.AddFile("etc/hello", 0644, "hello\n").ok());
  std::string bytes = tar.Finish();

  ASSERT_EQ(bytes.size(), 512u * 4);  // header, one data block, two end blocks
  EXPECT_EQ(bytes.substr(0, 9), "etc/hello");
  EXPECT_EQ(bytes.substr(257, 6), std::string("ustar\0", 6));
  EXPECT_EQ(std::stoul(bytes.substr(124, 11), nullptr, 8), 6u);
  unsigned sum = 0;
  for (int i = 0; i < 512; ++i)
    sum += (i >= 148 && i < 156) ? ' ' : (unsigned char)bytes[i];
  EXPECT_EQ(std::stoul(bytes.substr(148, 6), nullptr, 8), sum);
}

TEST(TarWriterTest, SystemTarExtractsFilesDirectoriesSymlinksAndLongPaths) {
  TempDir tmp;
  std::string long_dir(120, 'd');
  TarWriter tar;
  ASSERT_TRUE(tar.AddDirectory("bin", 0755).ok());
  ASSERT_TRUE(tar.AddFile("bin/tool", 0755, "#!/bin/sh\n").ok());
  ASSERT_TRUE(tar.AddSymlink("bin/alias", "tool").ok());
  ASSERT_TRUE(tar.AddFile(long_dir + "/file", 0600, "x").ok());
  WriteText(tmp.path() + "/a.tar", tar.Finish());

  Extract(tmp.path() + "/a.tar", tmp.path() + "/out");

  EXPECT_EQ(fs::read_symlink(tmp.path() + "/out/bin/alias"), "tool");
  EXPECT_EQ(*ReadFile(tmp.path() + "/out/bin/tool"), "#!/bin/sh\n");
  EXPECT_EQ(*ReadFile(tmp.path() + "/out/" + long_dir + "/file"), "x");
  auto perms = fs::status(tmp.path() + "/out/bin/tool").permissions();
  EXPECT_NE(perms & fs::perms::owner_exec, fs::perms::none);
}

TEST(TarWriterTest, RejectsAbsoluteAndUnsplittablePaths) {
  TarWriter tar;
  EXPECT_FALSE(tar.AddFile("/etc/passwd", 0644, "").ok());
  EXPECT_FALSE(tar.AddFile(std::string(200, 'x'), 0644, "").ok());
}

class BuildImageTest : public ::testing::Test {
 protected:
  void SetUp() override {
    tool_ = tmp_.path() + "/tool";
    WriteText(tool_, "version 1");
  }

  ImageSpec Spec() const {
    ImageSpec spec;
    spec.name = "aiconform.local/test:1";
    spec.entries = {ImageEntry::File("usr/bin/tool", tool_), ImageEntry::Symlink("bin", "usr/bin")};
    spec.entrypoint = {"/usr/bin/tool"};
    return spec;
  }

  TempDir tmp_;
  std::string tool_;
};

TEST_F(BuildImageTest, ArchiveIsAnOciLayoutWhoseBlobsMatchTheirDigests) {
  auto archive = BuildImage(Spec(), tmp_.path() + "/images");
  ASSERT_TRUE(archive.ok()) << archive.status().ToString();
  std::string out = tmp_.path() + "/x";
  Extract(archive->path, out);

  EXPECT_EQ(*ReadFile(out + "/oci-layout"), R"({"imageLayoutVersion":"1.0.0"})");
  auto index = nlohmann::json::parse(*ReadFile(out + "/index.json"));
  ASSERT_EQ(index["manifests"].size(), 1u);
  const auto& desc = index["manifests"][0];
  EXPECT_EQ(desc["annotations"]["org.opencontainers.image.ref.name"], "aiconform.local/test:1");

  auto blob = [&](const nlohmann::json& d) {
    std::string hex = d["digest"].get<std::string>().substr(7);
    std::string data = *ReadFile(out + "/blobs/sha256/" + hex);
    EXPECT_EQ(Sha256Hex(data), hex);
    EXPECT_EQ(data.size(), d["size"].get<size_t>());
    return data;
  };
  auto manifest = nlohmann::json::parse(blob(desc));
  auto config = nlohmann::json::parse(blob(manifest["config"]));
  std::string layer = blob(manifest["layers"][0]);
  EXPECT_EQ(config["config"]["Entrypoint"][0], "/usr/bin/tool");
  EXPECT_EQ(config["rootfs"]["diff_ids"][0], "sha256:" + Sha256Hex(layer));

  WriteText(tmp_.path() + "/layer.tar", layer);
  Extract(tmp_.path() + "/layer.tar", tmp_.path() + "/rootfs");
  EXPECT_EQ(*ReadFile(tmp_.path() + "/rootfs/usr/bin/tool"), "version 1");
  EXPECT_EQ(fs::read_symlink(tmp_.path() + "/rootfs/bin"), "usr/bin");
}

TEST_F(BuildImageTest, UnchangedInputsReuseTheArchive) {
  auto first = BuildImage(Spec(), tmp_.path() + "/images");
  auto second = BuildImage(Spec(), tmp_.path() + "/images");

  ASSERT_TRUE(first.ok() && second.ok());
  EXPECT_TRUE(first->built);
  EXPECT_FALSE(second->built);
  EXPECT_EQ(first->path, second->path);
}

TEST_F(BuildImageTest, ChangedSourceBuildsANewArchiveAndRemovesTheOldOne) {
  auto first = BuildImage(Spec(), tmp_.path() + "/images");
  WriteText(tool_, "version 2");
  auto second = BuildImage(Spec(), tmp_.path() + "/images");

  ASSERT_TRUE(first.ok() && second.ok());
  EXPECT_TRUE(second->built);
  EXPECT_NE(first->path, second->path);
  EXPECT_FALSE(fs::exists(first->path));
}

TEST_F(BuildImageTest, MissingSourceFileIsAnError) {
  ImageSpec spec = Spec();
  spec.entries.push_back(ImageEntry::File("gone", tmp_.path() + "/does-not-exist"));

  auto archive = BuildImage(spec, tmp_.path() + "/images");

  ASSERT_FALSE(archive.ok());
  EXPECT_NE(archive.status().message().find("does-not-exist"), std::string::npos);
}

TEST(CatalogTest, ProbeImageLinksShellHttpAndTcpAppletsToBusybox) {
  ImageSpec spec = ProbeImageSpec("/bin/busybox");
  for (const char* applet : {"sh", "wget", "nc", "httpd"}) {
    auto it = std::find_if(spec.entries.begin(), spec.entries.end(), [&](const ImageEntry& e) {
      return e.path == std::string("bin/") + applet;
    });
    ASSERT_NE(it, spec.entries.end()) << applet;
    EXPECT_EQ(it->target, "busybox");
  }
}

TEST(CatalogTest, PauseBinaryOfThisBuildIsFound) {
  std::string pause = DefaultPauseBinary();
  ASSERT_FALSE(pause.empty());
  EXPECT_EQ(PauseImageSpec(pause).entrypoint, std::vector<std::string>{"/pause"});
}

}  // namespace
}  // namespace aic::images
