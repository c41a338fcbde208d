/**
 * Overview: one section per lane — queue counts, age of the oldest message, DLQ depth, charts
 * of counts and of processed/failed per minute, alarm states — and recent tasks when the
 * table has the index for them.
 */
import { Link } from 'wouter-preact';
import { api } from '../api.ts';
import { AlarmList } from '../components/alarm-list.ts';
import { TimeChart } from '../components/time-chart.ts';
import { formatAge, formatTime } from '../format.ts';
import { html } from '../html.ts';
import type { History, LaneOverview, Overview, RecentTasks } from '../types.ts';
import { usePolling } from '../use-polling.ts';

export function OverviewPage(props: { overview: Overview | undefined }) {
  const o = props.overview;
  if (!o) return html`<p class="muted">Loading…</p>`;
  return html`<div>
    ${o.error && html`<p class="error" role="alert">${o.error}</p>`}
    ${o.lanes.length === 0 && html`<p class="muted">No lanes: the target names no queue.</p>`}
    ${o.lanes.map((lane) => html`<${LaneSection} key=${lane.name} lane=${lane} intervalMs=${o.sampleIntervalMs} />`)}
    <${RecentTasksSection} intervalMs=${o.sampleIntervalMs} />
  </div>`;
}

function Figure(props: { label: string; value: string | number; testId: string; warn?: boolean }) {
  return html`<div class=${`figure${props.warn ? ' warn' : ''}`} data-testid=${props.testId}>
    <div class="value">${props.value}</div>
    <div class="label">${props.label}</div>
  </div>`;
}

function LaneSection(props: { lane: LaneOverview; intervalMs: number }) {
  const { lane } = props;
  const history = usePolling(() => api<History>(`/api/lanes/${encodeURIComponent(lane.name)}/history`), props.intervalMs, [lane.name]);
  const s = lane.stats;
  const h = history.data;
  return html`<section class="lane" data-testid="lane" data-lane=${lane.name}>
    <h2>Lane <code>${lane.name}</code></h2>
    ${lane.error && html`<p class="error">${lane.error}</p>`}
    ${s &&
    html`<div class="figures">
      <${Figure} label="waiting" value=${s.queue.visible} testId="depth" />
      <${Figure} label="in flight" value=${s.queue.inFlight} testId="in-flight" />
      <${Figure} label="delayed" value=${s.queue.delayed} testId="delayed" />
      <${Figure} label="oldest message" value=${formatAge(s.queue.oldestAge.seconds)} testId="oldest-age" />
      <${Figure} label="in the DLQ" value=${s.deadLetterQueue.visible + s.deadLetterQueue.inFlight} testId="dlq-depth" warn=${s.deadLetterQueue.visible + s.deadLetterQueue.inFlight > 0} />
    </div>`}
    ${h &&
    html`<div class="charts">
      <${TimeChart}
        title="Queue"
        testId="chart-counts"
        unit="messages"
        times=${h.counts.map((c) => c.t)}
        series=${[
          { label: 'waiting', color: '#2563eb', values: h.counts.map((c) => c.visible) },
          { label: 'in flight', color: '#16a34a', values: h.counts.map((c) => c.inFlight) },
          { label: 'delayed', color: '#ca8a04', values: h.counts.map((c) => c.delayed) },
          { label: 'DLQ', color: '#dc2626', values: h.counts.map((c) => c.deadLetters) },
        ]}
      />
      <${TimeChart}
        title="Throughput and failures"
        testId="chart-rates"
        unit="per minute"
        times=${h.rates.map((r) => r.t)}
        series=${[
          { label: 'processed', color: '#16a34a', values: h.rates.map((r) => r.processedPerMinute) },
          { label: 'failed', color: '#dc2626', values: h.rates.map((r) => r.failedPerMinute) },
        ]}
      />
      <p class="muted small">${h.ratesSource}</p>
    </div>`}
    <h3>Alarms</h3>
    ${s ? html`<${AlarmList} alarms=${s.alarms.alarms} note=${s.alarms.note} />` : html`<p class="muted">—</p>`}
  </section>`;
}

function RecentTasksSection(props: { intervalMs: number }) {
  const recent = usePolling(() => api<RecentTasks>('/api/recent-tasks?limit=25'), Math.max(props.intervalMs, 5000), []);
  const r = recent.data;
  return html`<section class="recent" data-testid="recent-tasks">
    <h2>Recent tasks</h2>
    ${recent.error && html`<p class="error">${recent.error}</p>`}
    ${r && !r.available && html`<p class="muted" data-testid="recent-unavailable">${r.note}</p>`}
    ${r?.available &&
    html`<table>
      <thead><tr><th>Task</th><th>Type</th><th>Status</th><th>Attempts</th><th>Updated</th></tr></thead>
      <tbody>
        ${(r.tasks ?? []).map(
          (t) => html`<tr data-testid="recent-task">
            <td><${Link} href=${`/tasks?key=${encodeURIComponent(t.idempotencyKey)}`}><code>${t.taskId}</code></${Link}></td>
            <td>${t.type ?? '—'}</td>
            <td><span class=${`status ${t.status.toLowerCase()}`}>${t.status}</span></td>
            <td>${t.attempts ?? '—'}</td>
            <td>${formatTime(t.updatedAt)}</td>
          </tr>`,
        )}
      </tbody>
    </table>`}
  </section>`;
}
