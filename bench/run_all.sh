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
echo "== end-to-end contactless token authorisations over TCP (through the TSP)"
"$build/bench/e2e_authorization_bench" --contactless 128 --taps-per-device 60 --in-flight 16 --seconds 30
echo "== end-to-end consumer-presented QR payments (show to pay), in memory and over TCP"
"$build/bench/qr_bench" --e2e --tcp 0 --devices 64 --codes-per-device 100 --in-flight 16 --seconds 30
"$build/bench/qr_bench" --e2e --tcp 1 --devices 64 --codes-per-device 100 --in-flight 16 --seconds 30
echo "== wallet payment platform: durable merchant-QR and payment-code payments from the balance"
"$build/bench/qrpay_bench" --seconds 10
echo "== provisioning (bind + OTP)"
"$build/bench/provisioning_bench" --seconds 5 --threads 4
echo "== transit: one gate tap, clearing 1 M records"
"$build/bench/transit_bench"
echo "== digital currency: durable online transfers (same operator, batched) and inter-operator"
"$build/bench/dcep_bench"
echo "== digital currency: offline transfer verification per scheme vs raw OpenSSL verify"
"$build/bench/dcep_offline_bench"
echo "== digital currency: sync reconciliation of uploaded offline transfers"
"$build/bench/dcep_sync_bench"
echo "== token vault footprint"
"$build/bench/vault_memory_bench" --tokens 100000
