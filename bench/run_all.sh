#!/usr/bin/env bash
# Runs every benchmark once with bounded time (`make bench`). Figures and how to read them:
# docs/PERFORMANCE.md. Usage: bench/run_all.sh [BUILD_DIR]
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=${1:-$root/build}
for b in iso8583_bench emv_bench qr_bench arqc_bench ledger_bench; do
  echo "== $b"
  "$build/bench/$b" --benchmark_min_time=0.5
done
echo "== iso8583: tapstack vs npm iso_8583"
"$root/bench/iso8583_vs_npm.sh" "$build"
if [ -n "${TAPSTACK_TEST_PG_URL:-}" ]; then
  echo "== ledger vs PostgreSQL"
  "$build/bench/ledger_vs_postgres"
else
  echo "== ledger vs PostgreSQL: skipped (set TAPSTACK_TEST_PG_URL, see scripts/pg-test-server)"
fi
echo "== end-to-end authorisations over TCP"
"$build/bench/e2e_authorization_bench" --seconds 10
