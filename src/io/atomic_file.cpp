#include "io/atomic_file.hpp"

#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fstream>

#include "core/error.hpp"

namespace kpde::io {

namespace {
std::string parent_dir(const std::string& path) {
  const auto pos = path.find_last_of('/');
  if (pos == std::string::npos) return ".";
  if (pos == 0) return "/";
  return path.substr(0, pos);
}
}  // namespace

AtomicFile::AtomicFile(std::string final_path) : final_path_(std::move(final_path)) {
  if (final_path_.empty()) throw InputError("output file: empty path");
  const std::string dir = parent_dir(final_path_);
  if (::access(dir.c_str(), W_OK | X_OK) != 0) {
    throw InputError("cannot write '" + final_path_ + "': directory '" + dir +
                     "' is not writable (" + std::strerror(errno) + ")");
  }
  tmp_path_ = final_path_ + ".tmp-" + std::to_string(static_cast<long>(::getpid()));
}

AtomicFile::~AtomicFile() {
  if (!committed_) std::remove(tmp_path_.c_str());
}

void AtomicFile::commit() {
  if (std::rename(tmp_path_.c_str(), final_path_.c_str()) != 0) {
    const std::string why = std::strerror(errno);
    std::remove(tmp_path_.c_str());
    throw Error("cannot rename '" + tmp_path_ + "' to '" + final_path_ + "': " + why);
  }
  committed_ = true;
}

void write_file_atomically(const std::string& path, const std::string& bytes) {
  AtomicFile file(path);
  {
    std::ofstream out(file.path_for_writing(), std::ios::binary | std::ios::trunc);
    if (!out) throw InputError("cannot open '" + file.path_for_writing() + "' for writing");
    out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
    out.flush();
    if (!out) throw InputError("cannot write '" + path + "'");
  }
  file.commit();
}

}  // namespace kpde::io
