#!/usr/bin/env bash
# Golden CLI tests (in the style of Vowpal Wabbit's): runs every case of cases.txt with the given
# stagesim binary from the source directory and compares its stdout, stderr and exit code with
# tests/golden/cli/NAME.txt, so a changed message, a stale hint or a new default shows up as a
# diff. What depends on the machine (available memory, its core count) is replaced by a
# placeholder first. After an intended change, regenerate the files and review the diff:
#   tests/golden/cli/run.sh --update build/stagesim .
#   usage: run.sh [--update] STAGESIM SOURCE_DIR
set -uo pipefail
update=0
if [ "${1:-}" = "--update" ]; then update=1; shift; fi
bin=$(realpath "$1")
src=$(realpath "$2")
dir="$src/tests/golden/cli"
cd "$src"
# Fixed environment: check prints the OpenMP default thread count; messages in the C locale.
export OMP_NUM_THREADS=2 LC_ALL=C
failed=0
count=0
while read -r name args; do
  case "$name" in ''|'#'*) continue ;; esac
  count=$((count + 1))
  out=$(mktemp) err=$(mktemp)
  eval "\"$bin\" $args" >"$out" 2>"$err"
  code=$?
  # The machine: memory available and the thread count of "s on N threads" (hardware cores).
  sed -i -E -e 's/\([0-9.]+ [KMGT]?B available\)/(<memory> available)/' \
    -e 's/, [0-9.]+ s on [0-9]+ threads$/, <seconds> on <cores> threads/' "$out" "$err"
  actual=$( {
    echo "\$ stagesim $args"
    echo "--- stdout"
    cat "$out"
    echo "--- stderr"
    cat "$err"
    echo "--- exit $code"
  } )
  rm -f "$out" "$err"
  expected_file="$dir/$name.txt"
  if [ "$update" = 1 ]; then
    printf '%s\n' "$actual" >"$expected_file"
  elif [ ! -f "$expected_file" ]; then
    echo "golden: $name: no $expected_file (run with --update to create it)"
    failed=$((failed + 1))
  elif ! diff -u "$expected_file" <(printf '%s\n' "$actual") >/dev/null; then
    echo "golden: $name differs (expected vs actual):"
    diff -u "$expected_file" <(printf '%s\n' "$actual") | tail -n +3
    failed=$((failed + 1))
  fi
done <"$dir/cases.txt"
if [ "$update" = 1 ]; then
  echo "golden: wrote $count cases to $dir"
  exit 0
fi
if [ "$failed" -gt 0 ]; then
  echo "golden: $failed of $count cases differ; if the change is intended:"
  echo "  tests/golden/cli/run.sh --update <build>/stagesim $src   (and review git diff tests/golden/cli)"
  exit 1
fi
echo "golden: all $count cases match"
