// The live network view: GET /v1/console/metrics every second, drawn with chart.js (the UMD
// build's global `Chart`, served at /vendor/chart.umd.js). Each chart shows the last 60 one-second
// samples; the figures above the charts are also kept in data-* attributes for tests.
import { api } from './api.js';
import { formatTime } from './ui.js';

const kPollMs = 1000;
const kWindowSeconds = 60;
const kColors = {
  approved: '#16a34a',
  declined: '#dc2626',
  standIn: '#d97706',
  rate: '#2563eb',
  p50: '#0891b2',
  p90: '#7c3aed',
  p99: '#db2777',
};

let timer = null;
let charts = null;
let polling = false;

function lineDataset(label, color, extra = {}) {
  return { label, data: [], borderColor: color, backgroundColor: `${color}33`, borderWidth: 2, pointRadius: 0,
           cubicInterpolationMode: 'monotone', ...extra };
}

function makeCharts() {
  if (typeof window.Chart !== 'function') return null;
  const Chart = window.Chart;
  const common = {
    animation: false,
    responsive: true,
    maintainAspectRatio: false,
    interaction: { mode: 'index', intersect: false },
    plugins: { legend: { position: 'bottom', labels: { boxWidth: 12 } } },
    scales: { x: { ticks: { maxTicksLimit: 7, autoSkip: true } } },
  };
  const tps = new Chart(document.getElementById('tps-chart'), {
    type: 'line',
    data: { labels: [], datasets: [
      lineDataset('approved / s', kColors.approved, { fill: 'origin' }),
      lineDataset('declined / s', kColors.declined, { fill: 'origin' }),
      lineDataset('stand-in / s', kColors.standIn, { borderDash: [4, 3] }),
    ] },
    options: { ...common, scales: { ...common.scales, y: { beginAtZero: true, suggestedMax: 2 } } },
  });
  const approval = new Chart(document.getElementById('approval-chart'), {
    type: 'line',
    data: { labels: [], datasets: [lineDataset('approval rate %', kColors.rate, { spanGaps: true })] },
    options: { ...common, scales: { ...common.scales, y: { min: 0, max: 100 } } },
  });
  const latency = new Chart(document.getElementById('latency-chart'), {
    type: 'line',
    data: { labels: [], datasets: [
      lineDataset('p50', kColors.p50, { spanGaps: true }),
      lineDataset('p90', kColors.p90, { spanGaps: true }),
      lineDataset('p99', kColors.p99, { spanGaps: true }),
    ] },
    options: { ...common, scales: { ...common.scales, y: { beginAtZero: true } } },
  });
  return { tps, approval, latency };
}

const round1 = (x) => Math.round(x * 10) / 10;
const ms = (micros) => round1(micros / 1000);

function render(metrics) {
  const samples = metrics.samples || [];
  const totals = metrics.totals || {};
  const labels = samples.map((s) => formatTime(s.unix_ms));
  const box = document.getElementById('tps-chart-box');
  const maxTps = samples.reduce((m, s) => Math.max(m, s.requests_per_second), 0);
  box.dataset.samples = String(samples.length);
  box.dataset.maxTps = String(round1(maxTps));
  box.dataset.requests = String(samples.reduce((n, s) => n + s.requests, 0));

  const last = samples[samples.length - 1];
  document.getElementById('kpi-tps').textContent = last ? round1(last.requests_per_second).toString() : '–';
  let approved = 0;
  let declined = 0;
  for (const s of samples) { approved += s.approved; declined += s.declined; }
  document.getElementById('kpi-approval').textContent =
      approved + declined > 0 ? `${round1((100 * approved) / (approved + declined))} %` : '–';
  const busy = [...samples].reverse().find((s) => s.answered > 0);
  document.getElementById('kpi-latency').textContent =
      busy ? `${ms(busy.latency_p50_micros)} / ${ms(busy.latency_p99_micros)} ms` : '–';
  document.getElementById('kpi-standin').textContent =
      `${totals.stand_in_approved ?? 0} / ${totals.stand_in_declined ?? 0}`;
  document.getElementById('kpi-total').textContent =
      `${totals.requests ?? 0}` + (totals.approval_rate != null ? ` (${round1(100 * totals.approval_rate)} % approved)` : '');
  document.getElementById('live-status').textContent = last
    ? `updated ${formatTime(last.unix_ms)} · one sample a second · last ${samples.length} s`
    : 'waiting for the first sample…';

  if (!charts) return;
  charts.tps.data.labels = labels;
  charts.tps.data.datasets[0].data = samples.map((s) => round1(s.approved_per_second));
  charts.tps.data.datasets[1].data = samples.map((s) => round1(s.declined_per_second));
  charts.tps.data.datasets[2].data = samples.map((s) => round1(s.stand_in_per_second));
  charts.approval.data.labels = labels;
  charts.approval.data.datasets[0].data = samples.map((s) => (s.approval_rate == null ? null : round1(100 * s.approval_rate)));
  charts.latency.data.labels = labels;
  charts.latency.data.datasets[0].data = samples.map((s) => (s.answered ? ms(s.latency_p50_micros) : null));
  charts.latency.data.datasets[1].data = samples.map((s) => (s.answered ? ms(s.latency_p90_micros) : null));
  charts.latency.data.datasets[2].data = samples.map((s) => (s.answered ? ms(s.latency_p99_micros) : null));
  for (const c of Object.values(charts)) c.update('none');
}

async function poll() {
  if (polling) return;  // a slow answer: skip this tick rather than pile requests up
  polling = true;
  try {
    render(await api('GET', `/v1/console/metrics?seconds=${kWindowSeconds}`));
  } catch (e) {
    document.getElementById('live-status').textContent = `metrics unavailable: ${e.message}`;
  } finally {
    polling = false;
  }
}

export function startLive() {
  if (!charts) charts = makeCharts();
  document.getElementById('charts-missing').hidden = charts !== null;
  stopLive();
  poll();
  timer = setInterval(poll, kPollMs);
}

export function stopLive() {
  if (timer) clearInterval(timer);
  timer = null;
}
