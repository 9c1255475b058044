#include "local/images/tar.h"

#include <algorithm>
#include <array>
#include <cstring>

namespace aic::images {
namespace {

constexpr size_t kBlock = 512;

// Offsets and sizes of the ustar header fields (POSIX.1-1988 "ustar" interchange format).
struct Field {
  size_t offset;
  size_t size;
};
constexpr Field kName{0, 100}, kMode{100, 8}, kUid{108, 8}, kGid{116, 8}, kSize{124, 12},
    kMtime{136, 12}, kChecksum{148, 8}, kType{156, 1}, kLink{157, 100}, kMagic{257, 6},
    kVersion{263, 2}, kUname{265, 32}, kGname{297, 32}, kPrefix{345, 155};

void PutString(std::array<char, kBlock>& h, Field f, std::string_view s) {
  std::memcpy(h.data() + f.offset, s.data(), std::min(s.size(), f.size));
}

// Octal, zero-padded, NUL-terminated, filling the field.
void PutOctal(std::array<char, kBlock>& h, Field f, unsigned long long value) {
  std::string digits = fmt::format("{:0{}o}", value, f.size - 1);
  PutString(h, f, digits);
}

void Pad(std::string& out) {
  size_t rest = out.size() % kBlock;
  if (rest != 0) out.append(kBlock - rest, '\0');
}

// Splits `path` into ustar prefix and name; false when it cannot be represented.
bool SplitPath(std::string_view path, std::string_view* prefix, std::string_view* name) {
  if (path.size() <= kName.size) {
    *prefix = {};
    *name = path;
    return true;
  }
  for (size_t slash = path.find('/'); slash != std::string_view::npos;
       slash = path.find('/', slash + 1)) {
    if (slash <= kPrefix.size && path.size() - slash - 1 <= kName.size) {
      *prefix = path.substr(0, slash);
      *name = path.substr(slash + 1);
      return !name->empty();
    }
  }
  return false;
}

}  // namespace

Status TarWriter::AddHeader(std::string_view path, char type, int mode, size_t size,
                            std::string_view link_target) {
  if (path.empty() || path.front() == '/') {
    return Error(Code::kInvalidArgument, "tar: path \"{}\" must be relative", path);
  }
  std::string_view prefix, name;
  if (!SplitPath(path, &prefix, &name)) {
    return Error(Code::kInvalidArgument, "tar: path \"{}\" is too long for ustar", path);
  }
  if (link_target.size() > kLink.size) {
    return Error(Code::kInvalidArgument, "tar: link target of \"{}\" is too long", path);
  }

  std::array<char, kBlock> h{};
  PutString(h, kName, name);
  PutString(h, kPrefix, prefix);
  PutOctal(h, kMode, static_cast<unsigned>(mode) & 07777);
  PutOctal(h, kUid, 0);
  PutOctal(h, kGid, 0);
  PutOctal(h, kSize, size);
  PutOctal(h, kMtime, 0);
  h[kType.offset] = type;
  PutString(h, kLink, link_target);
  PutString(h, kMagic, std::string_view("ustar\0", 6));
  PutString(h, kVersion, "00");
  PutString(h, kUname, "root");
  PutString(h, kGname, "root");

  // The checksum is the byte sum of the header with its own field read as spaces.
  std::memset(h.data() + kChecksum.offset, ' ', kChecksum.size);
  unsigned sum = 0;
  for (char c : h)
    sum += static_cast<unsigned char>(c);
  std::string checksum = fmt::format("{:06o}", sum);
  checksum.push_back('\0');
  PutString(h, kChecksum, checksum);

  out_.append(h.data(), h.size());
  return Status::Ok();
}

Status TarWriter::AddDirectory(std::string_view path, int mode) {
  std::string dir(path);
  if (dir.empty() || dir.back() != '/') dir.push_back('/');
  return AddHeader(dir, '5', mode, 0, {});
}

Status TarWriter::AddFile(std::string_view path, int mode, std::string_view contents) {
  AIC_RETURN_IF_ERROR(AddHeader(path, '0', mode, contents.size(), {}));
  out_.append(contents);
  Pad(out_);
  return Status::Ok();
}

Status TarWriter::AddSymlink(std::string_view path, std::string_view target) {
  return AddHeader(path, '2', 0777, 0, target);
}

std::string TarWriter::Finish() {
  out_.append(2 * kBlock, '\0');
  return std::move(out_);
}

}  // namespace aic::images
