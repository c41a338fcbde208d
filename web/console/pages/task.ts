/**
 * A task: look it up by task id or idempotency key; its status, attempts, timeline (attempts,
 * the last error, the next attempt), result and claim-check size. The payload is never
 * shown here: it is not in the task table; a dead-lettered task links to its DLQ message,
 * whose body the DLQ page shows on request.
 */
import { useState } from 'preact/hooks';
import { Link, useLocation } from 'wouter-preact';
import { api } from '../api.ts';
import { formatBytes, formatTime } from '../format.ts';
import { html } from '../html.ts';
import type { TaskView, TimelineEvent } from '../types.ts';
import { usePolling } from '../use-polling.ts';

export function TaskPage(props: { id?: string | undefined; idempotencyKey?: string | undefined; intervalMs: number }) {
  const [, navigate] = useLocation();
  const [text, setText] = useState(props.idempotencyKey ?? props.id ?? '');
  const [by, setBy] = useState<'id' | 'key'>(props.idempotencyKey !== undefined ? 'key' : 'id');
  const query = props.idempotencyKey !== undefined ? `key=${encodeURIComponent(props.idempotencyKey)}` : props.id !== undefined ? `id=${encodeURIComponent(props.id)}` : undefined;
  const task = usePolling(query ? () => api<TaskView>(`/api/tasks?${query}`) : undefined, props.intervalMs, [query]);

  const submit = (event: Event) => {
    event.preventDefault();
    const value = text.trim();
    if (value) navigate(by === 'key' ? `/tasks/key/${encodeURIComponent(value)}` : `/tasks/${encodeURIComponent(value)}`);
  };

  return html`<div>
    <form class="lookup" onSubmit=${submit}>
      <select value=${by} onChange=${(e: Event) => setBy((e.target as HTMLSelectElement).value as 'id' | 'key')} data-testid="lookup-by">
        <option value="id">task id</option>
        <option value="key">idempotency key</option>
      </select>
      <input value=${text} onInput=${(e: Event) => setText((e.target as HTMLInputElement).value)} placeholder="task id or idempotency key" data-testid="lookup-input" />
      <button type="submit" class="primary">Look up</button>
    </form>
    ${task.error && html`<p class="error" role="alert" data-testid="task-error">${task.error}</p>`}
    ${task.data && html`<${TaskDetails} view=${task.data} />`}
  </div>`;
}

function TaskDetails(props: { view: TaskView }) {
  const { task, timeline, claimCheck, claimCheckNote, deadLetter } = props.view;
  return html`<section class="task" data-testid="task">
    <h2><code>${task.taskId}</code> <span class=${`status ${task.status.toLowerCase()}`} data-testid="task-status">${task.status}</span></h2>
    <dl class="facts">
      <dt>Type</dt><dd>${task.type ?? '—'}</dd>
      <dt>Idempotency key</dt><dd><code>${task.idempotencyKey}</code></dd>
      <dt>Attempts</dt><dd data-testid="task-attempts">${task.attempts}</dd>
      <dt>Created</dt><dd>${formatTime(task.createdAt)}</dd>
      <dt>Updated</dt><dd>${formatTime(task.updatedAt)}</dd>
      ${task.nextAttemptAt && html`<dt>Next attempt</dt><dd>${formatTime(task.nextAttemptAt)}</dd>`}
      ${task.deadLetterReason && html`<dt>Dead-letter reason</dt><dd>${task.deadLetterReason}</dd>`}
      <dt>Claim check</dt>
      <dd data-testid="claim-check">${claimCheck ? html`${formatBytes(claimCheck.size)} <span class="muted">(s3://${claimCheck.bucket}/${claimCheck.key})</span>` : '—'} <span class="muted small">${claimCheckNote}</span></dd>
      <dt>Result</dt>
      <dd>${task.resultTruncated ? html`<span class="muted">larger than the table keeps (not stored)</span>` : task.result === undefined ? '—' : html`<pre data-testid="task-result">${JSON.stringify(task.result, null, 2)}</pre>`}</dd>
    </dl>
    ${deadLetter && html`<p>In the DLQ of lane <code>${deadLetter.lane}</code>: <${Link} href=${`/dlq/${encodeURIComponent(deadLetter.lane)}`}>open the DLQ</${Link}> to peek at it or redrive it.</p>`}
    <h3>Timeline</h3>
    <ol class="timeline" data-testid="timeline">
      ${timeline.map((event) => html`<${TimelineItem} event=${event} />`)}
    </ol>
  </section>`;
}

const LABELS: Record<TimelineEvent['kind'], string> = {
  accepted: 'accepted',
  'attempt-failed': 'attempt failed',
  'attempt-running': 'attempt running',
  'retry-due': 'next attempt due',
  succeeded: 'succeeded',
  'dead-lettered': 'dead-lettered',
  observed: 'observed by the console',
};

function TimelineItem(props: { event: TimelineEvent }) {
  const e = props.event;
  return html`<li class=${`event ${e.kind}`} data-testid="timeline-event" data-kind=${e.kind}>
    <span class="when">${e.at ? formatTime(e.at) : ''}</span>
    <strong>${LABELS[e.kind]}${e.attempt !== undefined ? ` (attempt ${e.attempt})` : ''}</strong>
    ${e.note && html` <span class="muted">${e.note}</span>`}
    ${e.error && html`<pre class="error-text">${e.error}</pre>`}
  </li>`;
}
