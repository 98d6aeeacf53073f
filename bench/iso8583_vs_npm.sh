#!/usr/bin/env bash
# Pack+unpack rate of the same contactless 0100: tapstack (ascii profile, one core) vs npm
# iso_8583 on this machine, and the ratio. Usage: bench/iso8583_vs_npm.sh [BUILD_DIR]
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=${1:-$root/build}
ours=$("$build/bench/iso8583_bench" --benchmark_filter='BM_PackUnpack/ascii$' \
        --benchmark_min_time=2 --benchmark_format=json | \
       node -e 'let s="";process.stdin.on("data",d=>s+=d).on("end",()=>{const b=JSON.parse(s).benchmarks[0];console.log(b.items_per_second)})')
theirs=$(cd "$root/tests/interop" && node iso8583_npm_bench.js "$root/bench/data/contactless_0100.json" 3 | \
         node -e 'let s="";process.stdin.on("data",d=>s+=d).on("end",()=>console.log(JSON.parse(s).messages_per_second))')
node -e "const a=$ours,b=$theirs;console.log('tapstack ascii pack+unpack: '+Math.round(a)+' msg/s\nnpm iso_8583 pack+unpack:   '+Math.round(b)+' msg/s\nratio: '+(a/b).toFixed(1)+'x')"
