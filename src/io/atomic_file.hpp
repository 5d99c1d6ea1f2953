#pragma once
/// Atomic file output: write to `<final>.tmp-<pid>` in the same directory, then rename
/// over the final name on commit(). If the object is destroyed without commit() (an
/// exception mid-write), the temporary file is removed and the final name is untouched.
#include <string>

namespace kpde::io {

/// RAII guard for one atomically written file. Not copyable; one writer per object.
class AtomicFile {
 public:
  /// Prepares `<final_path>.tmp-<pid>`; throws kpde::InputError naming the path when the
  /// directory does not exist or is not writable. Does not create the temporary file.
  explicit AtomicFile(std::string final_path);
  /// Removes the temporary file unless commit() succeeded.
  ~AtomicFile();
  AtomicFile(const AtomicFile&) = delete;
  AtomicFile& operator=(const AtomicFile&) = delete;

  /// The temporary path to write to (same directory as the final path).
  const std::string& path_for_writing() const noexcept { return tmp_path_; }
  /// The final path the file appears under after commit().
  const std::string& final_path() const noexcept { return final_path_; }
  /// Renames the temporary file over the final path; throws kpde::Error on failure.
  void commit();

 private:
  std::string final_path_;
  std::string tmp_path_;
  bool committed_ = false;
};

/// Writes `bytes` to `path` through an AtomicFile; throws kpde::InputError when the
/// file cannot be written.
void write_file_atomically(const std::string& path, const std::string& bytes);

}  // namespace kpde::io
