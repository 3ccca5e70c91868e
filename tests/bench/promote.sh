#!/usr/bin/env bash
# Two promotions against cp, in the same run, the source read warm by all:
#
# 1. a 1 GiB dataset (a preprocessing run's data/: 256 files of 4 MiB) with
#    `runyard promote --data`, against `cp -r` and `cp -r --reflink=auto`;
# 2. a 2 GiB sparse export (16 KiB of data, the rest holes) with
#    `runyard promote --export`, against `cp --sparse=always` and
#    `cp --reflink=auto`; the disk blocks each copy takes are shown.
#
# runyard's times include the sha256 of every byte (holes hash as zeros)
# and an fsync of each file; cp's include a `sync` after the copy.
#
#   tests/bench/promote.sh              # SIZE_MB=1024 SPARSE_MB=2048
#   SIZE_MB=256 tests/bench/promote.sh
#   BIN=/path/to/runyard tests/bench/promote.sh   # another build, no cargo
set -euo pipefail
cd "$(dirname "$0")/../.."
SIZE_MB=${SIZE_MB:-1024}
SPARSE_MB=${SPARSE_MB:-2048}
if [ -z "${BIN:-}" ]; then
    cargo build --release --quiet
    BIN=$PWD/target/release/runyard
fi
base=tests/bench/out/promote
rm -rf "$base"
mkdir -p "$base"
root="$base/outputs"
run="$root/experiments/preproc/bench/2025-01-01_00-00-00"
mkdir -p "$run/data" "$root/artifacts/datasets"
n=$((SIZE_MB / 4))
for i in $(seq 1 "$n"); do
    head -c $((4 << 20)) /dev/urandom > "$run/data/part_$i.bin"
done
# The sparse export: 4 KiB of data at four places, holes between.
sparse="$run/model.onnx"
truncate -s "${SPARSE_MB}M" "$sparse"
for at in 0 $((SPARSE_MB / 3)) $((SPARSE_MB * 2 / 3)) $((SPARSE_MB - 1)); do
    head -c 4096 /dev/urandom | dd of="$sparse" bs=1M seek="$at" conv=notrunc status=none
done
touch -d '2 hours ago' "$run" "$run/data" "$run"/data/* "$sparse"
sync
cat "$run"/data/* > /dev/null   # warm the source for every copy
cat "$sparse" > /dev/null

timed() {   # prints the seconds the command and a sync took
    local t0 t1
    t0=$(date +%s.%N)
    "$@" > /dev/null
    sync
    t1=$(date +%s.%N)
    echo "$t1 - $t0" | bc -l
}
blocks() { echo $(( $(stat -c %b "$1") * 512 / 1024 ))K; }
row() { printf '%-52s %7.2fs  %5.2f  %s\n' "$1" "$2" "$(echo "$2 / $3" | bc -l)" "${4:-}"; }
export XDG_CACHE_HOME="$base/cache"

echo "dataset: $SIZE_MB MiB in $n files"
cp_s=$(timed cp -r "$run/data" "$base/cp-copy")
ref_s=$(timed cp -r --reflink=auto "$run/data" "$base/cp-reflink")
ry_s=$(timed "$BIN" -C "$root" promote 2025-01-01 --data --yes)
row "cp -r" "$cp_s" "$cp_s"
row "cp -r --reflink=auto" "$ref_s" "$cp_s"
row "runyard promote --data (+ sha256, fsync)" "$ry_s" "$cp_s"
cmp -s <(cd "$run/data" && cat ./*) <(cd "$root/artifacts/datasets/bench_v1" && cat ./*) &&
    echo "  the artifact is byte for byte the source"
rm -rf "$base/cp-copy" "$base/cp-reflink"

echo "sparse export: $SPARSE_MB MiB apparent, source takes $(blocks "$sparse") on disk"
sp_s=$(timed cp --sparse=always "$sparse" "$base/cp-sparse")
rs_s=$(timed cp --reflink=auto "$sparse" "$base/cp-reflink.onnx")
ry_s=$(timed "$BIN" -C "$root" promote 2025-01-01 --export model.onnx --name m.onnx --yes)
row "cp --sparse=always" "$sp_s" "$sp_s" "$(blocks "$base/cp-sparse") on disk"
row "cp --reflink=auto" "$rs_s" "$sp_s" "$(blocks "$base/cp-reflink.onnx") on disk"
row "runyard promote --export (+ sha256 of $SPARSE_MB MiB, fsync)" "$ry_s" "$sp_s" \
    "$(blocks "$root/artifacts/exports/m.onnx") on disk"
cmp -s "$sparse" "$root/artifacts/exports/m.onnx" && echo "  the artifact is byte for byte the source"
df -T "$base" | tail -1 | awk '{print "filesystem: " $2 " (reflink: " ($2=="btrfs"||$2=="xfs" ? "maybe" : "no") ")"}'
rm -rf "$base"
