#pragma once
// `stagesim merge OUT PARTS...`: combines the partial files of `--shard i/n` runs into the file a
// single run would have written, after checking that the parts belong to the same experiment and
// are disjoint and complete.
#include <string>
#include <vector>

namespace stagesim {

struct Registry;

// Throws ConfigError (mismatched, overlapping or incomplete parts) or IoError.
void merge_parts(const std::string& out, const std::vector<std::string>& parts,
                 const Registry& reg);

}  // namespace stagesim
