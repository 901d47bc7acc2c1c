#include "environments/data/line_reader.hpp"

#include <algorithm>
#include <cerrno>
#include <cstring>

namespace stagesim::data {
namespace {
constexpr std::size_t kMaxBuffer = std::size_t{1} << 30;
}  // namespace

LineReader::LineReader(const std::filesystem::path& path, std::size_t buffer_size)
    : path_(path.string()), file_(std::fopen(path.string().c_str(), "rb"), &std::fclose) {
  if (!file_) {
    throw DataError(path_, std::string("cannot open file (") + std::strerror(errno) + ")",
                    "check the path and the permissions");
  }
  buf_.resize(std::max<std::size_t>(buffer_size, 16));
}

bool LineReader::fill() {
  if (eof_) return false;
  if (begin_ > 0) {
    std::memmove(buf_.data(), buf_.data() + begin_, end_ - begin_);
    end_ -= begin_;
    begin_ = 0;
  }
  if (end_ == buf_.size()) {
    if (buf_.size() >= kMaxBuffer) {
      throw DataError(path_, line_ + 1, "a single line is longer than 1 GiB",
                      "the file is probably not a text file");
    }
    buf_.resize(std::min(buf_.size() * 2, kMaxBuffer));
  }
  std::size_t n = std::fread(buf_.data() + end_, 1, buf_.size() - end_, file_.get());
  if (n == 0) {
    if (std::ferror(file_.get())) {
      throw DataError(path_, line_ + 1, std::string("read error (") + std::strerror(errno) + ")",
                      "check the disk and the file");
    }
    eof_ = true;
    return false;
  }
  end_ += n;
  return true;
}

bool LineReader::next(std::string_view& line) {
  std::size_t scanned = 0;  // bytes after begin_ already known to hold no '\n'
  for (;;) {
    const char* start = buf_.data() + begin_;
    const void* nl = std::memchr(start + scanned, '\n', end_ - begin_ - scanned);
    if (nl != nullptr || (eof_ && begin_ != end_)) {
      const char* stop = nl ? static_cast<const char*>(nl) : buf_.data() + end_;
      std::size_t len = static_cast<std::size_t>(stop - start);
      begin_ += len + (nl ? 1 : 0);
      if (len > 0 && start[len - 1] == '\r') --len;
      line = std::string_view(start, len);
      ++line_;
      return true;
    }
    if (eof_) return false;
    scanned = end_ - begin_;
    fill();
  }
}

}  // namespace stagesim::data
