#pragma once
// How much memory this process may still allocate, for refusing at `check` time what cannot fit
// (instead of meeting std::bad_alloc, or the kernel's OOM killer, hours into a run).
#include <string>

namespace stagesim {

// The smallest of: MemAvailable (/proc/meminfo), the cgroup's memory.max minus memory.current,
// the address-space / data-segment rlimits minus what the process already maps, and the
// environment variable STAGESIM_MAX_MEMORY ("8G", "512M", bytes). Bytes.
double available_memory_bytes();

// "1.2 GB", "640 KB", ... (powers of 1000, 2 significant digits).
std::string format_bytes(double bytes);

}  // namespace stagesim
