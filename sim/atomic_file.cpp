#include "sim/atomic_file.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstring>
#include <filesystem>

#include "sim/errors.hpp"

namespace stagesim {
namespace {

std::string errno_text(int err, const std::string& path) {
  if (err == ENOSPC || err == EFBIG || err == EDQUOT)
    return "no space left for " + path + " (" + std::strerror(err) + ")";
  return path + ": " + std::strerror(err);
}

}  // namespace

std::string unique_temporary(const std::string& path) {
  static std::atomic<unsigned> counter{0};
  return path + ".tmp." + std::to_string(::getpid()) + "." + std::to_string(counter++);
}

void sync_parent_directory(const std::string& path) {
  std::filesystem::path dir = std::filesystem::path(path).parent_path();
  if (dir.empty()) dir = ".";
  const int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return;  // e.g. no read permission on the directory: the rename still happened
  const int r = ::fsync(fd);
  const int err = errno;
  ::close(fd);
  // Some file systems cannot sync directories (EINVAL); anything else is a real failure.
  if (r != 0 && err != EINVAL && err != EROFS)
    throw IoError("cannot sync the directory of " + errno_text(err, path));
}

void write_file_atomically(const std::string& path, std::span<const char> bytes) {
  const std::string tmp = unique_temporary(path);
  const int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
  if (fd < 0)
    throw IoError("cannot create " + errno_text(errno, tmp) +
                  "; check that the directory exists and is writable");
  auto fail = [&](const std::string& what, int err) {
    ::close(fd);
    ::unlink(tmp.c_str());
    throw IoError(what + errno_text(err, path));
  };
  const char* p = bytes.data();
  std::size_t left = bytes.size();
  while (left > 0) {
    const ssize_t w = ::write(fd, p, left);
    if (w < 0) {
      if (errno == EINTR) continue;
      fail("cannot write the output: ", errno);
    }
    p += w;
    left -= static_cast<std::size_t>(w);
  }
  if (::fsync(fd) != 0) fail("cannot sync the output: ", errno);
  if (::close(fd) != 0) {
    const int err = errno;
    ::unlink(tmp.c_str());
    throw IoError("cannot write the output: " + errno_text(err, path));
  }
  if (::rename(tmp.c_str(), path.c_str()) != 0) {
    const int err = errno;
    ::unlink(tmp.c_str());
    throw IoError(path + ": cannot move the finished file into place (" + std::strerror(err) +
                  (err == EISDIR ? "; the path is a directory" : "") + ")");
  }
  sync_parent_directory(path);
}

}  // namespace stagesim
