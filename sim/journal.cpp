#include "sim/journal.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>

#include "sim/atomic_file.hpp"
#include "sim/errors.hpp"

namespace stagesim {
namespace {

constexpr char kMagic[8] = {'S', 'S', 'J', 'O', 'U', 'R', 'N', '1'};
constexpr std::uint32_t kRecordMagic = 0x52434A53;      // "SJCR": finished cells
constexpr std::uint32_t kCheckpointMagic = 0x4B434A53;  // "SJCK": an unfinished task's state

struct Header {
  char magic[8];
  std::uint64_t hash, configs, replications, series, checkpoints;
};

Header make_header(const Experiment& ex) {
  Header h{};
  std::memcpy(h.magic, kMagic, 8);
  h.hash = ex.hash;
  h.configs = ex.configs.size();
  h.replications = static_cast<std::uint64_t>(ex.replications);
  h.series = ex.series.size();
  h.checkpoints = static_cast<std::uint64_t>(ex.checkpoints);
  return h;
}

std::string errno_text(int err, const std::string& path) {
  if (err == ENOSPC || err == EFBIG || err == EDQUOT)
    return "no space left for " + path + " (" + std::strerror(err) + ")";
  return path + ": " + std::strerror(err);
}

template <class T>
void put(std::vector<unsigned char>& b, const T& v) {
  const auto* p = reinterpret_cast<const unsigned char*>(&v);
  b.insert(b.end(), p, p + sizeof(T));
}

template <class T>
bool get(const unsigned char*& p, const unsigned char* end, T& v) {
  if (static_cast<std::size_t>(end - p) < sizeof(T)) return false;
  std::memcpy(&v, p, sizeof(T));
  p += sizeof(T);
  return true;
}

}  // namespace

Journal::Journal(std::string path, const Experiment& ex, bool resume, Results& results,
                 std::uint64_t compact_above)
    : path_(std::move(path)),
      series_(ex.series.size()),
      checkpoints_(ex.checkpoints),
      tables_(ex.tables.size()),
      replications_(static_cast<std::size_t>(ex.replications)),
      compact_above_(compact_above) {
  const Header h = make_header(ex);
  layout_.finished.assign(ex.configs.size() * replications_, false);
  struct stat st;
  bool exists = ::stat(path_.c_str(), &st) == 0;
  if (exists && !resume)
    throw IoError(path_ +
                  ": an interrupted run left this journal; continue it with --resume, or "
                  "delete it to start over");
  if (exists) {
    const std::size_t good = load(path_, ex, results, records_read_, nullptr, &layout_);
    if (good == 0) {
      // No complete header (the disk filled while it was created): nothing was recorded.
      if (::unlink(path_.c_str()) != 0) throw IoError("cannot replace " + errno_text(errno, path_));
      exists = false;
    } else if (::truncate(path_.c_str(), static_cast<off_t>(good)) != 0) {
      throw IoError("cannot repair " + errno_text(errno, path_));
    }
  }
  if (!exists) {
    // The header goes to a temporary that is renamed into place: the journal either does not
    // exist or starts with a complete header, even when the disk is full.
    const std::string tmp = unique_temporary(path_);
    const int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
    if (fd < 0)
      throw IoError("cannot write the journal " + errno_text(errno, path_) +
                    "; check that the output directory exists and is writable");
    fd_ = fd;
    try {
      write_all(&h, sizeof h);
      if (::fsync(fd_) != 0) throw IoError("cannot sync " + errno_text(errno, path_));
      if (::rename(tmp.c_str(), path_.c_str()) != 0)
        throw IoError("cannot create the journal " + errno_text(errno, path_));
      sync_parent_directory(path_);
    } catch (...) {
      ::close(fd_);
      fd_ = -1;
      ::unlink(tmp.c_str());
      throw;
    }
    ::close(fd_);
    fd_ = -1;
  }
  fd_ = ::open(path_.c_str(), O_WRONLY | O_APPEND | O_CLOEXEC);
  if (fd_ < 0)
    throw IoError("cannot write the journal " + errno_text(errno, path_) +
                  "; check that the output directory exists and is writable");
  compact_if_worthwhile();  // a resumed journal may hold many obsolete checkpoints
}

void Journal::Layout::add_checkpoint(std::size_t task, Span span, std::int64_t position) {
  auto it = checkpoints.find(task);
  if (finished[task]) {
    dead += span.size;
  } else if (it == checkpoints.end()) {
    checkpoints.emplace(task, std::make_pair(span, position));
  } else if (it->second.second <= position) {
    dead += it->second.first.size;
    it->second = {span, position};
  } else {
    dead += span.size;
  }
}

void Journal::Layout::add_cells(Span span, std::span<const std::size_t> tasks) {
  cells.push_back(span);
  for (std::size_t task : tasks) {
    finished[task] = true;
    auto it = checkpoints.find(task);
    if (it != checkpoints.end()) {
      dead += it->second.first.size;
      checkpoints.erase(it);
    }
  }
}

std::uint64_t Journal::Layout::live() const {
  std::uint64_t n = 0;
  for (const Span& c : cells) n += c.size;
  for (const auto& kv : checkpoints) n += kv.second.first.size;
  return n;
}

std::size_t Journal::load(const std::string& path, const Experiment& ex, Results& results,
                          std::size_t& records, Checkpoints* checkpoints, Layout* layout) {
  const Header h = make_header(ex);
  const std::size_t per_cell = ex.cell_size;  // series × checkpoints, or a job's arrays
  std::error_code ec;
  if (!std::filesystem::is_regular_file(path, ec))
    throw IoError(path + ": the journal path is " +
                  (std::filesystem::is_directory(path, ec) ? "a directory" : "not a regular file") +
                  "; remove it or choose another --journal / --out");
  std::ifstream in(path, std::ios::binary);
  if (!in) throw IoError(path + ": cannot read the journal (" + std::strerror(errno) + ")");
  // Streamed record by record: a long run's journal (many task checkpoints) may be large, and
  // only one record is held at a time.
  const std::uintmax_t file_size = std::filesystem::file_size(path, ec);
  std::vector<unsigned char> head(sizeof(Header));
  in.read(reinterpret_cast<char*>(head.data()), static_cast<std::streamsize>(head.size()));
  const std::size_t head_size = static_cast<std::size_t>(in.gcount());
  // A journal cut inside its header (earlier versions on a full disk) holds no records.
  if (head_size < sizeof(Header) &&
      std::memcmp(head.data(), kMagic, std::min<std::size_t>(head_size, 8)) == 0)
    return 0;
  Header got{};
  if (head_size < sizeof(Header) ||
      (std::memcpy(&got, head.data(), sizeof(Header)), std::memcmp(got.magic, kMagic, 8) != 0))
    throw IoError(path + ": not a stagesim journal; delete it or choose another --out");
  if (got.hash != h.hash || got.configs != h.configs || got.replications != h.replications ||
      got.series != h.series || got.checkpoints != h.checkpoints)
    throw IoError(path +
                  ": the journal belongs to a different experiment (the file, --set or "
                  "--seed changed); rerun with the original settings, or delete the journal "
                  "to start over");
  // Complete, checksummed records only; a torn last record (killed mid-write) ends the scan.
  std::size_t good = sizeof(Header);
  std::vector<unsigned char> payload_buf;
  while (true) {
    std::uint32_t magic = 0, len = 0, crc = 0;
    unsigned char rh[8];
    if (!in.read(reinterpret_cast<char*>(rh), 8)) break;
    std::memcpy(&magic, rh, 4);
    std::memcpy(&len, rh + 4, 4);
    if (magic != kRecordMagic && magic != kCheckpointMagic) break;
    // A length beyond the file's end is a torn (or damaged) record: never allocate for it.
    if (static_cast<std::uintmax_t>(len) + 4 >
        file_size - std::min<std::uintmax_t>(file_size, good + 8))
      break;
    payload_buf.resize(len);
    if (!in.read(reinterpret_cast<char*>(payload_buf.data()), len) ||
        !in.read(reinterpret_cast<char*>(&crc), 4))
      break;
    const unsigned char* payload = payload_buf.data();
    if (crc != crc32(0, payload, len)) break;
    const std::size_t next_good = good + 8 + len + 4;
    const unsigned char* r = payload;
    const unsigned char* rend = payload + len;
    if (magic == kCheckpointMagic) {
      TaskCheckpoint c;
      std::uint64_t cfg, rep, state_len;
      const std::size_t bytes = per_cell * sizeof(double);
      if (!get(r, rend, cfg) || !get(r, rend, rep) || !get(r, rend, c.position) ||
          cfg >= h.configs || rep >= h.replications ||
          static_cast<std::size_t>(rend - r) < bytes + sizeof(std::uint64_t))
        break;
      c.config = cfg;
      c.replication = rep;
      c.values.resize(per_cell);
      std::memcpy(c.values.data(), r, bytes);
      r += bytes;
      get(r, rend, state_len);
      if (static_cast<std::size_t>(rend - r) != state_len) break;
      c.state.assign(r, rend);
      const std::size_t key = cfg * h.replications + rep;
      if (layout) layout->add_checkpoint(key, Span{good, next_good - good}, c.position);
      if (checkpoints) {
        auto& slot = (*checkpoints)[key];
        if (slot.state.empty() || slot.position <= c.position) slot = std::move(c);
      }
      ++records;
      good = next_good;
      continue;
    }
    std::uint32_t n;
    bool ok = get(r, rend, n);
    std::vector<CellResult> cells;
    for (std::uint32_t i = 0; ok && i < n; ++i) {
      CellResult c;
      std::uint64_t cfg, rep;
      ok = get(r, rend, cfg) && get(r, rend, rep) && cfg < h.configs && rep < h.replications;
      if (!ok) break;
      c.config = cfg;
      c.replication = rep;
      c.values.resize(per_cell);
      const std::size_t bytes = per_cell * sizeof(double);
      ok = static_cast<std::size_t>(rend - r) >= bytes;
      if (!ok) break;
      std::memcpy(c.values.data(), r, bytes);
      r += bytes;
      // Tables (only experiments with table metrics write them): rows, then each column.
      c.tables.resize(ex.tables.size());
      for (std::size_t t = 0; ok && t < ex.tables.size(); ++t) {
        std::uint64_t rows;
        ok = get(r, rend, rows);
        if (!ok) break;
        TableData& td = c.tables[t];
        td.rows = rows;
        td.columns.resize(ex.tables[t].columns.size());
        for (std::size_t k = 0; ok && k < td.columns.size(); ++k) {
          const std::uint64_t n = rows * ex.tables[t].columns[k].width;
          ok = n <= static_cast<std::uint64_t>(rend - r) / sizeof(double);
          if (!ok) break;
          td.columns[k].resize(n);
          std::memcpy(td.columns[k].data(), r, n * sizeof(double));
          r += n * sizeof(double);
        }
      }
      if (!ok) break;
      cells.push_back(std::move(c));
    }
    if (!ok) break;
    if (layout) {
      std::vector<std::size_t> tasks;
      for (const CellResult& c : cells) tasks.push_back(c.config * h.replications + c.replication);
      layout->add_cells(Span{good, next_good - good}, tasks);
    }
    for (CellResult& c : cells) {
      results.cell(c.config, c.replication) = std::move(c.values);
      results.tables[c.config * results.replications + c.replication] = std::move(c.tables);
    }
    ++records;
    good = next_good;
  }
  return good;
}

std::size_t Journal::read_into(const std::string& path, const Experiment& ex, Results& results,
                               Checkpoints* checkpoints) {
  std::size_t records = 0;
  load(path, ex, results, records, checkpoints, nullptr);
  return records;
}

std::vector<std::string> Journal::list(const std::string& base) {
  namespace fs = std::filesystem;
  std::vector<std::string> out;
  fs::path b(base);
  fs::path dir = b.parent_path().empty() ? fs::path(".") : b.parent_path();
  const std::string name = b.filename().string();
  std::error_code ec;
  if (fs::exists(b, ec)) {
    if (!fs::is_regular_file(b, ec))
      throw IoError(base + ": the journal path is " +
                    (fs::is_directory(b, ec) ? "a directory" : "not a regular file") +
                    "; remove it or choose another --journal / --out");
    out.push_back(base);
  }
  for (const auto& e : fs::directory_iterator(dir, ec)) {
    const std::string f = e.path().filename().string();
    if (f.size() > name.size() + 1 && f.compare(0, name.size() + 1, name + ".") == 0 &&
        f.find_first_not_of("0123456789", name.size() + 1) == std::string::npos)
      out.push_back((b.parent_path() / f).string());
  }
  std::sort(out.begin() + (out.empty() || out[0] != base ? 0 : 1), out.end());
  return out;
}

Journal::~Journal() {
  if (fd_ >= 0) ::close(fd_);
}

void Journal::write_all(const void* data, std::size_t n) {
  const char* p = static_cast<const char*>(data);
  while (n > 0) {
    ssize_t w = ::write(fd_, p, n);
    if (w < 0) {
      if (errno == EINTR) continue;
      throw IoError("cannot record finished tasks: " + errno_text(errno, path_) +
                    "; tasks already recorded are safe — free space and rerun with --resume");
    }
    p += w;
    n -= static_cast<std::size_t>(w);
  }
}

void Journal::append(const std::vector<CellResult>& cells) {
  std::vector<unsigned char> payload;
  put(payload, static_cast<std::uint32_t>(cells.size()));
  for (const CellResult& c : cells) {
    put(payload, static_cast<std::uint64_t>(c.config));
    put(payload, static_cast<std::uint64_t>(c.replication));
    const auto* v = reinterpret_cast<const unsigned char*>(c.values.data());
    payload.insert(payload.end(), v, v + c.values.size() * sizeof(double));
    for (std::size_t t = 0; t < tables_; ++t) {
      const TableData* td = t < c.tables.size() ? &c.tables[t] : nullptr;
      const std::uint64_t rows = td ? td->rows : 0;
      put(payload, rows);
      for (std::size_t k = 0; td && k < td->columns.size(); ++k) {
        const auto* q = reinterpret_cast<const unsigned char*>(td->columns[k].data());
        payload.insert(payload.end(), q, q + td->columns[k].size() * sizeof(double));
      }
    }
  }
  if (payload.size() > 0xffffffffu)
    throw IoError(path_ +
                  ": one unit's results exceed 4 GiB (a large stage log?); log fewer requests "
                  "(metrics.stage_log.every) or split the run");
  const Span span = append_record(kRecordMagic, payload);
  std::vector<std::size_t> tasks;
  for (const CellResult& c : cells) tasks.push_back(c.config * replications_ + c.replication);
  layout_.add_cells(span, tasks);
  compact_if_worthwhile();
}

void Journal::append(const TaskCheckpoint& c) {
  std::vector<unsigned char> payload;
  put(payload, static_cast<std::uint64_t>(c.config));
  put(payload, static_cast<std::uint64_t>(c.replication));
  put(payload, c.position);
  const auto* v = reinterpret_cast<const unsigned char*>(c.values.data());
  payload.insert(payload.end(), v, v + c.values.size() * sizeof(double));
  put(payload, static_cast<std::uint64_t>(c.state.size()));
  payload.insert(payload.end(), c.state.begin(), c.state.end());
  // Too large for a record: not journaled, so this task restarts from its last smaller one.
  if (payload.size() > 0xffffffffu) return;
  const Span span = append_record(kCheckpointMagic, payload);
  layout_.add_checkpoint(c.config * replications_ + c.replication, span, c.position);
  compact_if_worthwhile();
}

Journal::Span Journal::append_record(std::uint32_t magic,
                                     const std::vector<unsigned char>& payload) {
  std::vector<unsigned char> rec;
  put(rec, magic);
  put(rec, static_cast<std::uint32_t>(payload.size()));
  rec.insert(rec.end(), payload.begin(), payload.end());
  put(rec, static_cast<std::uint32_t>(crc32(0, payload.data(), payload.size())));
  const off_t before = ::lseek(fd_, 0, SEEK_END);
  try {
    write_all(rec.data(), rec.size());
  } catch (...) {
    // Cut a partial record off so the journal stays readable.
    if (before >= 0 && ::ftruncate(fd_, before) != 0) {
    }
    throw;
  }
  if (::fdatasync(fd_) != 0)
    throw IoError("cannot sync " + errno_text(errno, path_) +
                  "; free space and rerun with --resume");
  return Span{static_cast<std::uint64_t>(before), rec.size()};
}

void Journal::compact_if_worthwhile() {
  // Amortised: a compaction copies the live bytes, at most as many as the dead ones it frees.
  if (layout_.dead <= compact_above_ || layout_.dead < layout_.live()) return;
  if (compact()) {
    ++compactions_;
  } else {
    // No room for the copy (or another failure): the journal stays as it is, intact, and the
    // next attempt waits until as much again is obsolete.
    compact_above_ = std::max(compact_above_, layout_.dead) * 2;
  }
}

bool Journal::compact() {
  // The live records, in file order, are copied after the header into a temporary that is
  // synced and renamed over the journal: a crash at any point leaves either the old journal or
  // the compacted one, both complete.
  std::vector<std::pair<Span, Span*>> live;
  for (Span& c : layout_.cells) live.emplace_back(c, &c);
  for (auto& kv : layout_.checkpoints) live.emplace_back(kv.second.first, &kv.second.first);
  std::sort(live.begin(), live.end(),
            [](const auto& a, const auto& b) { return a.first.offset < b.first.offset; });
  const int in = ::open(path_.c_str(), O_RDONLY | O_CLOEXEC);
  if (in < 0) return false;
  const std::string tmp = unique_temporary(path_);
  const int out = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
  if (out < 0) {
    ::close(in);
    return false;
  }
  std::vector<char> buf(std::size_t{1} << 20);
  // Copies [offset, offset + size) of the journal to the end of the temporary.
  auto copy = [&](std::uint64_t offset, std::uint64_t size) {
    while (size > 0) {
      const std::size_t want = static_cast<std::size_t>(std::min<std::uint64_t>(size, buf.size()));
      const ssize_t r = ::pread(in, buf.data(), want, static_cast<off_t>(offset));
      if (r <= 0) {
        if (r < 0 && errno == EINTR) continue;
        return false;
      }
      for (ssize_t done = 0; done < r;) {
        const ssize_t w = ::write(out, buf.data() + done, static_cast<std::size_t>(r - done));
        if (w < 0) {
          if (errno == EINTR) continue;
          return false;
        }
        done += w;
      }
      offset += static_cast<std::uint64_t>(r);
      size -= static_cast<std::uint64_t>(r);
    }
    return true;
  };
  bool ok = copy(0, sizeof(Header));
  std::vector<std::uint64_t> new_offsets;
  std::uint64_t at = sizeof(Header);
  for (const auto& [span, where] : live) {
    if (!ok) break;
    new_offsets.push_back(at);
    ok = copy(span.offset, span.size);
    at += span.size;
  }
  ok = ok && ::fsync(out) == 0;
  ok = (::close(out) == 0) && ok;
  ::close(in);
  if (!ok || ::rename(tmp.c_str(), path_.c_str()) != 0) {
    ::unlink(tmp.c_str());
    return false;
  }
  try {
    sync_parent_directory(path_);
  } catch (const IoError&) {
    // The rename took effect; a later sync of the directory makes it durable.
  }
  const int fd = ::open(path_.c_str(), O_WRONLY | O_APPEND | O_CLOEXEC);
  if (fd < 0)
    throw IoError("cannot reopen the compacted journal " + errno_text(errno, path_) +
                  "; tasks already recorded are safe — rerun with --resume");
  ::close(fd_);
  fd_ = fd;
  for (std::size_t i = 0; i < live.size(); ++i) live[i].second->offset = new_offsets[i];
  layout_.dead = 0;
  return true;
}

void Journal::remove() {
  if (fd_ >= 0) ::close(fd_);
  fd_ = -1;
  ::unlink(path_.c_str());
}

}  // namespace stagesim
