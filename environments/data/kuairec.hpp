#pragma once
// KuaiRec v2 (Gao et al., CIKM 2022) loaders: interaction matrices (small_matrix.csv,
// big_matrix.csv), the dense users x items watch-ratio table of early-stage-pg.md §8, and the side
// tables (user_features, item_categories, social_network, item_daily_features). See datasets.md §1.
#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "environments/data/dense_matrix.hpp"
#include "environments/data/id_map.hpp"
#include "environments/data/sparse.hpp"

namespace stagesim::data {

// ---- Locating the files -------------------------------------------------------------------------

// The directory holding the KuaiRec CSVs: `root` itself, or root/data, root/KuaiRec/data,
// root/"KuaiRec 2.0"/data, the first that contains `required_file` (or, when it is empty, any
// known KuaiRec CSV). DataError listing every place tried otherwise.
std::filesystem::path locate_kuairec_dir(const std::filesystem::path& root,
                                       std::string_view required_file = {});
// locate_kuairec_dir(root, file) / file.
std::filesystem::path kuairec_file(const std::filesystem::path& root, std::string_view file);

// ---- Load summaries -----------------------------------------------------------------------------

struct OfficialCounts {
  std::int64_t rows = 0;
  std::int64_t users = 0;  // 0 = not applicable
  std::int64_t items = 0;
};
// Official v2 counts by file name ("small_matrix.csv", ...), or nullopt for unknown files.
std::optional<OfficialCounts> official_kuairec_counts(std::string_view file_name);

struct LoadSummary {
  std::string file;
  std::int64_t rows = 0;            // data rows in the file
  std::int64_t kept_rows = 0;       // rows (or cells) in the result
  std::int64_t users = 0;           // distinct users kept (interaction files)
  std::int64_t items = 0;           // distinct videos kept (interaction files)
  std::int64_t missing_values = 0;  // empty / nan fields among the columns read
  std::int64_t duplicates = 0;      // rows repeating an earlier (user, video) pair
  std::int64_t skipped_rows = 0;    // rows dropped (no user/video id, no watch ratio)
  std::int64_t max_video_id = -1;
  std::vector<std::string> warnings;  // count mismatches, v1 detection, ...

  // One paragraph: the counts, the comparison with the official counts, the warnings.
  std::string report() const;
};

// ---- Interactions -------------------------------------------------------------------------------

// What to do with repeated (user, video) pairs (re-watches in big_matrix).
enum class DuplicatePolicy { kKeepAll, kFirst, kLast, kMean, kMax };
// "keep_all" | "first" | "last" | "mean" | "max"; DataError otherwise.
DuplicatePolicy parse_duplicate_policy(std::string_view name);
std::string_view duplicate_policy_name(DuplicatePolicy p);

struct InteractionOptions {
  std::optional<double> clip;                // clip watch_ratio to [0, clip] (literature: 5 or 10)
  std::optional<double> positive_threshold;  // fills `positive` when set
  bool positive_strict = false;              // positive = ratio > t (true) or ratio >= t (false)
  DuplicatePolicy duplicates = DuplicatePolicy::kKeepAll;
  bool keep_details = true;  // also keep play/video duration, date and timestamp
};

// Rows in file order (for first/last/mean/max: one row per pair, in order of the pair's first
// appearance). watch_ratio is clipped before aggregation; with kMean/kMax the other columns come
// from the first row / the row holding the maximum.
struct Interactions {
  IdMap users;  // index -> user_id, in order of first appearance
  IdMap items;  // index -> video_id, in order of first appearance
  std::vector<std::int32_t> user;
  std::vector<std::int32_t> item;
  std::vector<double> watch_ratio;
  std::vector<std::uint8_t> positive;  // empty unless positive_threshold is set
  // Empty unless keep_details. NaN (or -1 for date) where the file has no value.
  std::vector<double> play_duration;   // ms
  std::vector<double> video_duration;  // ms
  std::vector<double> timestamp;       // Unix seconds
  std::vector<std::int32_t> date;      // yyyymmdd
  LoadSummary summary;

  std::int64_t size() const { return static_cast<std::int64_t>(user.size()); }
};

// Loads small_matrix.csv / big_matrix.csv (columns user_id, video_id, play_duration,
// video_duration, time, date, timestamp, watch_ratio; extra columns ignored). Rows with empty
// time/date/timestamp are kept; a missing watch_ratio is recomputed as play/video duration when
// both are present, else the row is skipped (as are rows without user or video id).
Interactions load_kuairec_interactions(const std::filesystem::path& csv,
                                     const InteractionOptions& options = {});

// Number of distinct (user_id, video_id) pairs present in both (by original ids).
std::int64_t count_overlapping_pairs(const Interactions& a, const Interactions& b);

// ---- Dense users x items table ------------------------------------------------------------------

struct DenseOptions {
  std::optional<double> clip;  // clip watch_ratio to [0, clip] before aggregation
  DuplicatePolicy duplicates = DuplicatePolicy::kMean;  // kKeepAll is rejected (DataError)
  std::optional<double> max_bytes;  // refuse (DataError) a table larger than this
};

template <class T>
struct DenseTable {
  IdMap users;            // row index -> user_id (order of first appearance)
  IdMap items;            // column index -> video_id (order of first appearance)
  DenseMatrix<T> values;  // users x items watch ratios; 0 where the file has no row
  std::int64_t observed_cells = 0;
  LoadSummary summary;
};

// Streams the file twice (ids, then values): peak memory is the table plus at most a bitmap and,
// only if duplicates occur under kMean, a uint32 count per cell. T is float or double. DataError
// when the table would be under 1/64 observed (many distinct ids in few rows) or exceed max_bytes.
template <class T>
DenseTable<T> load_kuairec_dense(const std::filesystem::path& csv, const DenseOptions& options = {});

// ---- Side tables --------------------------------------------------------------------------------

struct UserFeatures {
  std::vector<std::int64_t> user_id;
  std::vector<std::string> active_degree;        // user_active_degree verbatim ("UNKNOWN" kept)
  std::vector<std::string> numeric_names;        // is_lowactive_period ... onehot_feat17
  DenseMatrix<double> numeric;                   // rows x numeric_names, NaN where empty
  std::vector<std::string> range_names;          // follow_user_num_range, ...
  std::vector<std::vector<std::string>> ranges;  // [column][row], e.g. "(0,10]"
  LoadSummary summary;

  std::optional<std::size_t> numeric_column(std::string_view name) const;
};
UserFeatures load_kuairec_user_features(const std::filesystem::path& csv);

struct ItemCategories {
  std::vector<std::int64_t> video_id;
  IdLists tags;  // tag ids in [0, 30], as listed
  LoadSummary summary;
};
ItemCategories load_kuairec_item_categories(const std::filesystem::path& csv);

struct SocialNetwork {
  std::vector<std::int64_t> user_id;
  IdLists friends;  // friend user_ids
  LoadSummary summary;
};
SocialNetwork load_kuairec_social_network(const std::filesystem::path& csv);

struct ItemDailyFeatures {
  std::vector<std::int64_t> video_id;
  std::vector<std::int32_t> date;       // yyyymmdd
  std::vector<std::int64_t> author_id;  // -1 where empty
  std::vector<std::string> numeric_names;
  DenseMatrix<double> numeric;  // rows x numeric_names, NaN where empty
  std::vector<std::string> text_names;
  std::vector<std::vector<std::string>> text;  // [column][row]
  LoadSummary summary;

  std::optional<std::size_t> numeric_column(std::string_view name) const;
};
// With `numeric_columns` given, exactly those columns are read as numbers (a non-number is a
// DataError). Otherwise every other column is numeric unless it holds a non-numeric value, in
// which case it is returned as text (values before the first non-number re-formatted with %.17g).
ItemDailyFeatures load_kuairec_item_daily_features(
    const std::filesystem::path& csv, const std::vector<std::string>& numeric_columns = {});

// Parses a Python list literal of non-negative integers ("[8]", "[27, 9]", "[]").
// Returns false if the text is not such a literal.
bool parse_id_list_literal(std::string_view text, std::vector<std::int32_t>& out);

}  // namespace stagesim::data
