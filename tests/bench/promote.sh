#!/usr/bin/env bash
# Promotes a 1 GiB dataset (a preprocessing run's data/: 256 files of 4 MiB)
# with `runyard promote --data` and copies the same folder with `cp -r`, in
# the same run, caches dropped of neither (the source is read warm by both).
#
#   tests/bench/promote.sh            # SIZE_MB=1024 by default
#   SIZE_MB=256 tests/bench/promote.sh
set -euo pipefail
cd "$(dirname "$0")/../.."
SIZE_MB=${SIZE_MB:-1024}
cargo build --release --quiet
bin=$PWD/target/release/runyard
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
touch -d '2 hours ago' "$run" "$run/data" "$run"/data/*
sync
cat "$run"/data/* > /dev/null   # warm the source for both

t0=$(date +%s.%N); cp -r "$run/data" "$base/cp-copy"; sync; t1=$(date +%s.%N)
cp_s=$(echo "$t1 - $t0" | bc -l)
t0=$(date +%s.%N); XDG_CACHE_HOME="$base/cache" "$bin" -C "$root" promote 2025-01-01 --data --yes >/dev/null; sync; t1=$(date +%s.%N)
ry_s=$(echo "$t1 - $t0" | bc -l)
printf '%-46s %7.2fs  1.00\n' "cp -r ($SIZE_MB MiB, $n files) + sync" "$cp_s"
printf '%-46s %7.2fs  %.2f\n' "runyard promote --data (+ sha256, fsync)" "$ry_s" "$(echo "$ry_s / $cp_s" | bc -l)"
cmp -s <(cd "$run/data" && cat ./*) <(cd "$root/artifacts/datasets/bench_v1" && cat ./*) && echo "the artifact is byte for byte the source"
df -T "$base" | tail -1 | awk '{print "filesystem: " $2 " (reflink: " ($2=="btrfs"||$2=="xfs" ? "maybe" : "no") ")"}'
rm -rf "$base"
