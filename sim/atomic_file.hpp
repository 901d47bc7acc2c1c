#pragma once
// Writing a finished file so that readers see either the old file or the complete new one, and a
// crash or full disk never leaves a partial file under the final name: the bytes go to a
// temporary of a unique name beside it (two writers never share one), are synced, renamed into
// place, and the directory is synced so the rename itself is durable.
#include <span>
#include <string>

namespace stagesim {

// Throws IoError ("no space left ..." for a full disk); the temporary is removed on failure.
void write_file_atomically(const std::string& path, std::span<const char> bytes);

// fsync of the directory holding `path` (after creating or renaming a file in it).
void sync_parent_directory(const std::string& path);

// A name beside `path` no other process or call uses: PATH.tmp.<pid>.<n>.
std::string unique_temporary(const std::string& path);

}  // namespace stagesim
