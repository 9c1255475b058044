#include "local/images/oci.h"

#include <filesystem>
#include <map>

#include <nlohmann/json.hpp>

#include "common/log.h"
#include "local/images/digest.h"
#include "local/images/tar.h"

namespace aic::images {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

// Bumped whenever the archive layout written below changes, so cached archives are rebuilt.
constexpr int kFormatVersion = 1;

constexpr const char* kLayerType = "application/vnd.oci.image.layer.v1.tar";
constexpr const char* kConfigType = "application/vnd.oci.image.config.v1+json";
constexpr const char* kManifestType = "application/vnd.oci.image.manifest.v1+json";
constexpr const char* kIndexType = "application/vnd.oci.image.index.v1+json";

#if defined(__x86_64__)
constexpr const char* kArch = "amd64";
#elif defined(__aarch64__)
constexpr const char* kArch = "arm64";
#else
#error "unsupported architecture"
#endif

json Descriptor(const char* media_type, const std::string& blob) {
  return {
      {"mediaType", media_type}, {"digest", "sha256:" + Sha256Hex(blob)}, {"size", blob.size()}};
}

// Entries sorted by path with every parent directory present, so parents precede children.
Result<std::map<std::string, ImageEntry>> LayerEntries(const ImageSpec& spec) {
  std::map<std::string, ImageEntry> entries;
  for (const ImageEntry& e : spec.entries) {
    std::string path = fs::path(e.path).lexically_normal().string();
    if (path.empty() || path.front() == '/' || path.starts_with("..")) {
      return Error(Code::kInvalidArgument, "image \"{}\": entry path \"{}\" must be relative",
                   spec.name, e.path);
    }
    if (path.back() == '/') path.pop_back();
    entries[path] = e;
    for (fs::path parent = fs::path(path).parent_path(); !parent.empty();
         parent = parent.parent_path()) {
      entries.try_emplace(parent.string(), ImageEntry::Directory(parent.string()));
    }
  }
  return entries;
}

Result<std::string> LayerTar(const ImageSpec& spec) {
  AIC_ASSIGN_OR_RETURN(auto entries, LayerEntries(spec));
  TarWriter tar;
  for (const auto& [path, e] : entries) {
    switch (e.kind) {
      case ImageEntry::Kind::kDirectory:
        AIC_RETURN_IF_ERROR(tar.AddDirectory(path, e.mode));
        break;
      case ImageEntry::Kind::kSymlink:
        AIC_RETURN_IF_ERROR(tar.AddSymlink(path, e.target));
        break;
      case ImageEntry::Kind::kFile: {
        AIC_ASSIGN_OR_RETURN(std::string data, ReadFile(e.source));
        AIC_RETURN_IF_ERROR(tar.AddFile(path, e.mode, data));
        break;
      }
    }
  }
  return tar.Finish();
}

json ImageConfig(const ImageSpec& spec, const std::string& layer) {
  json config = {{"WorkingDir", spec.working_dir}};
  if (!spec.entrypoint.empty()) config["Entrypoint"] = spec.entrypoint;
  if (!spec.cmd.empty()) config["Cmd"] = spec.cmd;
  if (!spec.env.empty()) config["Env"] = spec.env;
  return {{"architecture", kArch},
          {"os", "linux"},
          {"config", config},
          {"rootfs", {{"type", "layers"}, {"diff_ids", {"sha256:" + Sha256Hex(layer)}}}}};
}

// The archive: an OCI image layout with one manifest, named for containerd's importer.
Result<std::string> ArchiveTar(const ImageSpec& spec) {
  AIC_ASSIGN_OR_RETURN(std::string layer, LayerTar(spec));
  std::string config = ImageConfig(spec, layer).dump();
  json manifest = {{"schemaVersion", 2},
                   {"mediaType", kManifestType},
                   {"config", Descriptor(kConfigType, config)},
                   {"layers", {Descriptor(kLayerType, layer)}}};
  std::string manifest_bytes = manifest.dump();

  json manifest_desc = Descriptor(kManifestType, manifest_bytes);
  manifest_desc["annotations"] = {{"io.containerd.image.name", spec.name},
                                  {"org.opencontainers.image.ref.name", spec.name}};
  manifest_desc["platform"] = {{"architecture", kArch}, {"os", "linux"}};
  json index = {{"schemaVersion", 2}, {"mediaType", kIndexType}, {"manifests", {manifest_desc}}};

  TarWriter tar;
  AIC_RETURN_IF_ERROR(tar.AddFile("oci-layout", 0644, R"({"imageLayoutVersion":"1.0.0"})"));
  AIC_RETURN_IF_ERROR(tar.AddFile("index.json", 0644, index.dump()));
  AIC_RETURN_IF_ERROR(tar.AddDirectory("blobs", 0755));
  AIC_RETURN_IF_ERROR(tar.AddDirectory("blobs/sha256", 0755));
  for (const std::string* blob : {&layer, &config, &manifest_bytes}) {
    AIC_RETURN_IF_ERROR(tar.AddFile("blobs/sha256/" + Sha256Hex(*blob), 0644, *blob));
  }
  return tar.Finish();
}

// "aiconform.local/probe:1" -> "aiconform.local_probe_1"
std::string FileStem(const std::string& name) {
  std::string stem = name;
  for (char& c : stem) {
    if (c == '/' || c == ':' || c == '@') c = '_';
  }
  return stem;
}

void RemoveOlderArchives(const std::string& out_dir, const std::string& stem,
                         const std::string& keep) {
  std::error_code ec;
  for (const auto& f : fs::directory_iterator(out_dir, ec)) {
    std::string file = f.path().filename().string();
    if (file.starts_with(stem + "-") && file.ends_with(".oci.tar") && f.path() != keep) {
      fs::remove(f.path(), ec);
    }
  }
}

}  // namespace

ImageEntry ImageEntry::File(std::string path, std::string source, int mode) {
  ImageEntry e;
  e.path = std::move(path);
  e.source = std::move(source);
  e.mode = mode;
  return e;
}

ImageEntry ImageEntry::Directory(std::string path, int mode) {
  ImageEntry e;
  e.kind = Kind::kDirectory;
  e.path = std::move(path);
  e.mode = mode;
  return e;
}

ImageEntry ImageEntry::Symlink(std::string path, std::string target) {
  ImageEntry e;
  e.kind = Kind::kSymlink;
  e.path = std::move(path);
  e.target = std::move(target);
  e.mode = 0777;
  return e;
}

Result<std::string> InputDigest(const ImageSpec& spec) {
  json inputs = {{"format", kFormatVersion}, {"name", spec.name}, {"entrypoint", spec.entrypoint},
                 {"cmd", spec.cmd},          {"env", spec.env},   {"working_dir", spec.working_dir},
                 {"entries", json::array()}};
  for (const ImageEntry& e : spec.entries) {
    json entry = {{"kind", static_cast<int>(e.kind)},
                  {"path", e.path},
                  {"mode", e.mode},
                  {"target", e.target}};
    if (e.kind == ImageEntry::Kind::kFile) {
      AIC_ASSIGN_OR_RETURN(entry["sha256"], Sha256File(e.source));
    }
    inputs["entries"].push_back(entry);
  }
  return Sha256Hex(inputs.dump());
}

Result<ImageArchive> BuildImage(const ImageSpec& spec, const std::string& out_dir) {
  AIC_ASSIGN_OR_RETURN(std::string digest, InputDigest(spec));
  std::string stem = FileStem(spec.name);
  ImageArchive archive;
  archive.name = spec.name;
  archive.path = fmt::format("{}/{}-{}.oci.tar", out_dir, stem, digest.substr(0, 16));
  if (fs::exists(archive.path)) return archive;

  std::error_code ec;
  fs::create_directories(out_dir, ec);
  if (ec) return Error(Code::kInternal, "cannot create \"{}\": {}", out_dir, ec.message());
  AIC_ASSIGN_OR_RETURN(std::string bytes, ArchiveTar(spec));
  AIC_RETURN_IF_ERROR(WriteFileAtomic(archive.path, bytes));
  RemoveOlderArchives(out_dir, stem, archive.path);
  archive.built = true;
  log::Get("images")->info("built image {} ({} bytes) at {}", spec.name, bytes.size(),
                           archive.path);
  return archive;
}

}  // namespace aic::images
