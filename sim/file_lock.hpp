#pragma once
// An advisory lock that keeps two runs from writing the same output (two `--resume` runs after a
// Slurm requeue, say): the second fails at once with the holder's pid and host, instead of both
// writing the file and one deleting the journal the other still needs. The lock is released when
// the process ends, even by kill -9, so a requeued run is never blocked by a dead one.
#include <string>

namespace stagesim {

class FileLock {
 public:
  // Locks `path` (created if missing, e.g. OUT.lock) without waiting. Throws IoError naming
  // `what` (the output file) and the current holder when another process has it, or when the lock
  // file cannot be created.
  FileLock(std::string path, const std::string& what);
  // Removes the lock file, then releases the lock.
  ~FileLock();
  FileLock(const FileLock&) = delete;
  FileLock& operator=(const FileLock&) = delete;

 private:
  std::string path_;
  int fd_ = -1;
};

}  // namespace stagesim
