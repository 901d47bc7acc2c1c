#!/usr/bin/env bash
# Every shipped experiment file passes `stagesim check` with the binary under test, so a file
# cannot drift from the code it documents (a renamed key, a removed type). Files that need a real
# dataset are listed with the dataset; they are checked where the data is (docs/datasets.md).
#   usage: check_experiments.sh STAGESIM SOURCE_DIR
set -uo pipefail
bin=$1
cd "$2"
needs_data='^experiments/(early_stage_pg/table4\.toml|two_stage/fig4\.toml)$'  # KuaiRec, AmazonCat-13K
failed=0
count=0
while IFS= read -r f; do
  if [[ $f =~ $needs_data ]]; then continue; fi
  count=$((count + 1))
  if ! out=$("$bin" check "$f" 2>&1); then
    echo "FAIL $f: $(grep -m1 error <<<"$out")"
    failed=$((failed + 1))
  fi
done < <(find experiments -name '*.toml' | sort)
echo "$count experiment files checked, $failed failed"
[ "$count" -gt 0 ] && [ "$failed" = 0 ]
