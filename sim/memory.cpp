#include "sim/memory.hpp"

#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <limits>
#include <sstream>

namespace stagesim {
namespace {

// The first number in `path` (e.g. memory.max holds "max" or a byte count), or +inf.
double read_number(const std::string& path) {
  std::ifstream in(path);
  double v;
  if (in >> v) return v;
  return std::numeric_limits<double>::infinity();
}

double meminfo_available() {
  std::ifstream in("/proc/meminfo");
  std::string key;
  double kb;
  std::string unit;
  while (in >> key >> kb >> unit)
    if (key == "MemAvailable:") return kb * 1024.0;
  return std::numeric_limits<double>::infinity();
}

double cgroup_available() {
  // cgroup v2: the process's own group from /proc/self/cgroup ("0::/path").
  std::ifstream in("/proc/self/cgroup");
  std::string line, group;
  while (std::getline(in, line))
    if (line.rfind("0::", 0) == 0) group = line.substr(3);
  const std::string dir = "/sys/fs/cgroup" + (group == "/" ? std::string() : group);
  const double max = read_number(dir + "/memory.max");
  if (!std::isfinite(max)) return max;
  const double used = read_number(dir + "/memory.current");
  return std::isfinite(used) ? std::max(0.0, max - used) : max;
}

double rlimit_available() {
  double best = std::numeric_limits<double>::infinity();
  for (int which : {RLIMIT_AS, RLIMIT_DATA}) {
    rlimit r{};
    if (getrlimit(which, &r) == 0 && r.rlim_cur != RLIM_INFINITY)
      best = std::min(best, static_cast<double>(r.rlim_cur));
  }
  if (!std::isfinite(best)) return best;
  std::ifstream statm("/proc/self/statm");
  double pages = 0;
  statm >> pages;  // total program size in pages
  return std::max(0.0, best - pages * static_cast<double>(sysconf(_SC_PAGESIZE)));
}

// STAGESIM_MAX_MEMORY: a cap the user (or a test harness) sets, e.g. "8G", "512M" or bytes.
double configured_limit() {
  const char* v = std::getenv("STAGESIM_MAX_MEMORY");
  if (!v || !*v) return std::numeric_limits<double>::infinity();
  char* end = nullptr;
  double x = std::strtod(v, &end);
  if (end == v || x <= 0) return std::numeric_limits<double>::infinity();
  switch (*end) {
    case 'k': case 'K': x *= 1024; break;
    case 'm': case 'M': x *= 1024.0 * 1024; break;
    case 'g': case 'G': x *= 1024.0 * 1024 * 1024; break;
    case 't': case 'T': x *= 1024.0 * 1024 * 1024 * 1024; break;
    default: break;
  }
  return x;
}

}  // namespace

double available_memory_bytes() {
  double a = std::min(
      {meminfo_available(), cgroup_available(), rlimit_available(), configured_limit()});
  if (!std::isfinite(a)) {
    const long pages = sysconf(_SC_AVPHYS_PAGES), size = sysconf(_SC_PAGESIZE);
    a = pages > 0 && size > 0 ? static_cast<double>(pages) * static_cast<double>(size) : 1e18;
  }
  return a;
}

std::string format_bytes(double bytes) {
  static const char* units[] = {"bytes", "KB", "MB", "GB", "TB", "PB", "EB"};
  int u = 0;
  while (bytes >= 1000 && u < 6) {
    bytes /= 1000;
    ++u;
  }
  char buf[32];
  if (u == 0)
    std::snprintf(buf, sizeof buf, "%.0f bytes", bytes);
  else
    std::snprintf(buf, sizeof buf, bytes < 10 ? "%.1f %s" : "%.0f %s", bytes, units[u]);
  return buf;
}

}  // namespace stagesim
