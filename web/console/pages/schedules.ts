/**
 * The schedules (`taskq schedules`): each one's state, expression, time zone and next run,
 * refreshed live; pause or resume one after a confirmation (the same code as
 * `taskq schedules pause|resume`).
 */
import { useState } from 'preact/hooks';
import { api } from '../api.ts';
import { ConfirmDialog, type ConfirmRequest } from '../components/confirm-dialog.ts';
import { formatTime } from '../format.ts';
import { html } from '../html.ts';
import type { Schedule } from '../types.ts';
import { usePolling } from '../use-polling.ts';

export function SchedulesPage(props: { intervalMs: number }) {
  const listing = usePolling(() => api<{ schedules: Schedule[] }>('/api/schedules'), props.intervalMs, []);
  const [confirm, setConfirm] = useState<ConfirmRequest | null>(null);
  const [notice, setNotice] = useState<string | null>(null);
  const [failure, setFailure] = useState<string | null>(null);
  const schedules = listing.data?.schedules ?? [];

  const change = (s: Schedule, verb: 'pause' | 'resume') =>
    setConfirm({
      title: verb === 'pause' ? `Pause ${s.name}` : `Resume ${s.name}`,
      message:
        verb === 'pause'
          ? `No occurrence of ${s.name} is sent until it is resumed (against AWS, a deployment resumes it when the construct says enabled).`
          : `${s.name} sends its task again from its next occurrence.`,
      confirmLabel: verb === 'pause' ? 'Pause' : 'Resume',
      onConfirm: async () => {
        setNotice(null);
        setFailure(null);
        try {
          const view = await api<Schedule>(`/api/schedules/${encodeURIComponent(s.name)}/${verb}`, { method: 'POST', body: { confirm: verb } });
          setNotice(`Schedule ${view.name} ${verb === 'pause' ? 'paused' : 'resumed'}.`);
          listing.reload();
        } catch (e) {
          setFailure((e as Error).message);
        }
      },
    });

  return html`<div>
    <h2>Schedules</h2>
    ${notice && html`<p class="notice" role="status" data-testid="schedules-notice">${notice}</p>`}
    ${failure && html`<p class="error" role="alert" data-testid="schedules-error">${failure}</p>`}
    ${listing.error && html`<p class="error" data-testid="schedules-load-error">${listing.error}</p>`}
    ${listing.data && schedules.length === 0 && html`<p class="muted" data-testid="schedules-empty">This task queue has no schedules.</p>`}
    ${schedules.length > 0 &&
    html`<table class="schedules" data-testid="schedules-table">
      <thead><tr><th>Name</th><th>State</th><th>Expression</th><th>Time zone</th><th>Next run</th><th></th></tr></thead>
      <tbody>
        ${schedules.map(
          (s) => html`<tr data-testid="schedule-row" data-name=${s.name} data-state=${s.state}>
            <td><strong>${s.name}</strong>${s.description ? html`<div class="muted small">${s.description}</div>` : ''}</td>
            <td><span class=${`status ${s.state === 'ENABLED' ? 'succeeded' : 'paused'}`} data-testid="schedule-state">${s.state === 'ENABLED' ? 'enabled' : 'paused'}</span></td>
            <td><code>${s.expression}</code></td>
            <td>${s.timezone}</td>
            <td data-testid="schedule-next-run">${s.nextRun ? formatTime(s.nextRun) : '—'}</td>
            <td>${s.state === 'ENABLED'
              ? html`<button type="button" onClick=${() => change(s, 'pause')} data-testid="schedule-pause">Pause</button>`
              : html`<button type="button" class="primary" onClick=${() => change(s, 'resume')} data-testid="schedule-resume">Resume</button>`}</td>
          </tr>`,
        )}
      </tbody>
    </table>`}
    <${ConfirmDialog} request=${confirm} onClose=${() => setConfirm(null)} />
  </div>`;
}
