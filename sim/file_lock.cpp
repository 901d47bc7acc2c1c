#include "sim/file_lock.hpp"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <ctime>

#include "sim/errors.hpp"

namespace stagesim {

FileLock::FileLock(std::string path, const std::string& what) : path_(std::move(path)) {
  // A holder removes the file before it unlocks; if we locked a file that was removed meanwhile
  // (we opened it just before), the lock protects nothing: start over with the new file.
  for (int attempt = 0; attempt < 100; ++attempt) {
    const int fd = ::open(path_.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    if (fd < 0)
      throw IoError(path_ + ": cannot create the lock file for " + what + " (" +
                    std::strerror(errno) +
                    "); check that the output directory exists and is writable");
    if (::flock(fd, LOCK_EX | LOCK_NB) != 0) {
      const int err = errno;
      char holder[256] = {0};
      const ssize_t n = ::pread(fd, holder, sizeof holder - 1, 0);
      ::close(fd);
      if (err != EWOULDBLOCK)
        throw IoError(path_ + ": cannot lock (" + std::string(std::strerror(err)) + ")");
      std::string who = n > 0 ? std::string(holder, static_cast<std::size_t>(n)) : "";
      while (!who.empty() && (who.back() == '\n' || who.back() == '\r')) who.pop_back();
      throw IoError(what + ": another stagesim run is writing it (" +
                    (who.empty() ? std::string("holder unknown") : who) + ", lock " + path_ +
                    "); wait for that run to finish, or give this one another --out");
    }
    struct stat mine {}, named {};
    if (::fstat(fd, &mine) == 0 && ::stat(path_.c_str(), &named) == 0 &&
        mine.st_ino == named.st_ino && mine.st_dev == named.st_dev) {
      fd_ = fd;
      char host[128] = {0};
      ::gethostname(host, sizeof host - 1);
      char when[32];
      const std::time_t t = std::time(nullptr);
      std::strftime(when, sizeof when, "%Y-%m-%dT%H:%M:%SZ", std::gmtime(&t));
      const std::string info = "pid " + std::to_string(::getpid()) + " on " + host + " since " +
                               when + "\n";
      if (::ftruncate(fd_, 0) == 0 && ::pwrite(fd_, info.data(), info.size(), 0) < 0) {
        // The holder's description is a courtesy; the lock itself is what matters.
      }
      return;
    }
    ::close(fd);
  }
  throw IoError(path_ + ": the lock file keeps being replaced; is another run starting and stopping?");
}

FileLock::~FileLock() {
  if (fd_ < 0) return;
  ::unlink(path_.c_str());
  ::close(fd_);
}

}  // namespace stagesim
