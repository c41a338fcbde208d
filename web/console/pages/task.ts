/**
 * A task: look it up by task id or idempotency key (or go to a group by its id); its status, attempts, timeline (attempts,
 * the last error, the next attempt, its cancellation), result and claim-check size. The
 * payload is never shown here: it is not in the task table; a dead-lettered task links to its
 * DLQ message, whose body the DLQ page shows on request. A result stored in S3 is fetched only
 * when asked for. A task that has not finished can be cancelled (as `taskq cancel`). A group's
 * member or callback links to its group.
 */
import { useState } from 'preact/hooks';
import { Link, useLocation } from 'wouter-preact';
import { api } from '../api.ts';
import { ConfirmDialog, type ConfirmRequest } from '../components/confirm-dialog.ts';
import { formatBytes, formatTime } from '../format.ts';
import { html } from '../html.ts';
import type { CancelResult, TaskResult, TaskView, TimelineEvent } from '../types.ts';
import { usePolling } from '../use-polling.ts';

export function TaskPage(props: { id?: string | undefined; idempotencyKey?: string | undefined; intervalMs: number }) {
  const [, navigate] = useLocation();
  const [text, setText] = useState(props.idempotencyKey ?? props.id ?? '');
  const [by, setBy] = useState<LookUpBy>(props.idempotencyKey !== undefined ? 'key' : 'id');
  const query = props.idempotencyKey !== undefined ? `key=${encodeURIComponent(props.idempotencyKey)}` : props.id !== undefined ? `id=${encodeURIComponent(props.id)}` : undefined;
  const task = usePolling(query ? () => api<TaskView>(`/api/tasks?${query}`) : undefined, props.intervalMs, [query]);

  const submit = (event: Event) => {
    event.preventDefault();
    const route = lookUpRoute(by, text);
    if (route) navigate(route);
  };

  return html`<div>
    <form class="lookup" onSubmit=${submit}>
      <select value=${by} onChange=${(e: Event) => setBy((e.target as HTMLSelectElement).value as LookUpBy)} data-testid="lookup-by">
        <option value="id">task id</option>
        <option value="key">idempotency key</option>
        <option value="group">group id</option>
      </select>
      <input value=${text} onInput=${(e: Event) => setText((e.target as HTMLInputElement).value)} placeholder="task id, idempotency key, group id or /groups/<id>" data-testid="lookup-input" />
      <button type="submit" class="primary">Look up</button>
    </form>
    ${task.error && html`<p class="error" role="alert" data-testid="task-error">${task.error}</p>`}
    ${task.data && html`<${TaskDetails} view=${task.data} onChange=${task.reload} />`}
  </div>`;
}

type LookUpBy = 'id' | 'key' | 'group';

/** Where the look-up box goes: a pasted `/groups/<id>` (or `#/groups/<id>`) address is a group, whatever is chosen. */
function lookUpRoute(by: LookUpBy, text: string): string | undefined {
  const value = text.trim();
  if (!value) return undefined;
  const pasted = /(?:^|#)\/groups\/([^/?#]+)$/.exec(value);
  if (pasted) return `/groups/${pasted[1]}`;
  if (by === 'group') return `/groups/${encodeURIComponent(value)}`;
  return by === 'key' ? `/tasks/key/${encodeURIComponent(value)}` : `/tasks/${encodeURIComponent(value)}`;
}

/** Statuses after which nothing more happens: cancel refuses them. */
const FINISHED = new Set(['SUCCEEDED', 'DEAD_LETTERED', 'CANCELLED']);

function query(task: TaskView['task']): { taskId: string; idempotencyKey?: string } {
  return { taskId: task.taskId, ...(task.idempotencyKey !== task.taskId ? { idempotencyKey: task.idempotencyKey } : {}) };
}

function TaskDetails(props: { view: TaskView; onChange: () => void }) {
  const { task, timeline, claimCheck, claimCheckNote, deadLetter, group } = props.view;
  const [confirm, setConfirm] = useState<ConfirmRequest | null>(null);
  const [notice, setNotice] = useState<string | null>(null);
  const [failure, setFailure] = useState<string | null>(null);
  const cancel = () =>
    setConfirm({
      title: 'Cancel the task',
      message: `Cancel task ${task.taskId}? Its copies are acknowledged without running; a running handler sees ctx.signal abort and may still finish.`,
      confirmLabel: 'Cancel the task',
      danger: true,
      onConfirm: async () => {
        setNotice(null);
        setFailure(null);
        try {
          const result = await api<CancelResult>('/api/tasks/cancel', { method: 'POST', body: { ...query(task), confirm: 'cancel' } });
          setNotice(
            result.alreadyCancelled
              ? 'It was cancelled before.'
              : result.wasRunning
                ? 'Cancelled. It was running: its handler sees ctx.signal abort at the next check, and may still finish (then SUCCEEDED).'
                : 'Cancelled: its copies will be acknowledged without running.',
          );
        } catch (e) {
          // The CLI's words: a finished task is refused with its status.
          setFailure((e as Error).message);
        }
        props.onChange();
      },
    });
  return html`<section class="task" data-testid="task">
    <h2>
      <code>${task.taskId}</code> <span class=${`status ${task.status.toLowerCase()}`} data-testid="task-status">${task.status}</span>
      ${!FINISHED.has(task.status) && html` <button type="button" class="danger" onClick=${cancel} data-testid="task-cancel">Cancel…</button>`}
    </h2>
    ${notice && html`<p class="notice" role="status" data-testid="task-notice">${notice}</p>`}
    ${failure && html`<p class="error" role="alert" data-testid="task-cancel-error">${failure}</p>`}
    <dl class="facts">
      <dt>Type</dt><dd>${task.type ?? '—'}</dd>
      <dt>Idempotency key</dt><dd><code>${task.idempotencyKey}</code></dd>
      ${group && html`<dt>Group</dt><dd data-testid="task-group">${group.role === 'callback' ? 'the callback of group ' : group.index !== undefined ? `member ${group.index} of group ` : 'member of group '}<${Link} href=${`/groups/${encodeURIComponent(group.groupId)}`} data-testid="task-group-link"><code>${group.groupId}</code></${Link}></dd>`}
      <dt>Attempts</dt><dd data-testid="task-attempts">${task.attempts}</dd>
      <dt>Created</dt><dd>${formatTime(task.createdAt)}</dd>
      <dt>Updated</dt><dd>${formatTime(task.updatedAt)}</dd>
      ${task.nextAttemptAt && task.status === 'RETRYING' && html`<dt>Next attempt</dt><dd>${formatTime(task.nextAttemptAt)}</dd>`}
      ${task.deadLetterReason && html`<dt>Dead-letter reason</dt><dd>${task.deadLetterReason}</dd>`}
      ${task.cancelledAt && html`<dt>Cancelled</dt><dd data-testid="task-cancelled-at">${formatTime(task.cancelledAt)}</dd>`}
      <dt>Claim check</dt>
      <dd data-testid="claim-check">${claimCheck ? html`${formatBytes(claimCheck.size)} <span class="muted">(s3://${claimCheck.bucket}/${claimCheck.key})</span>` : '—'} <span class="muted small">${claimCheckNote}</span></dd>
      <dt>Result</dt>
      <dd>${task.resultTruncated
        ? html`<span class="muted">too large to store (or no bucket): not kept</span>`
        : task.resultRef
          ? html`<${StoredResult} task=${task} />`
          : task.result === undefined
            ? '—'
            : html`<pre data-testid="task-result">${JSON.stringify(task.result, null, 2)}</pre>`}</dd>
    </dl>
    <${ConfirmDialog} request=${confirm} onClose=${() => setConfirm(null)} />
    ${deadLetter && html`<p>In the DLQ of lane <code>${deadLetter.lane}</code>: <${Link} href=${`/dlq/${encodeURIComponent(deadLetter.lane)}`}>open the DLQ</${Link}> to peek at it or redrive it.</p>`}
    <h3>Timeline</h3>
    <ol class="timeline" data-testid="timeline">
      ${timeline.map((event) => html`<${TimelineItem} event=${event} />`)}
    </ol>
  </section>`;
}

/** A result stored in S3: its size, and the result itself only when asked for. */
function StoredResult(props: { task: TaskView['task'] }) {
  const ref = props.task.resultRef!;
  const [fetched, setFetched] = useState<TaskResult | null>(null);
  const [error, setError] = useState<string | null>(null);
  const fetchResult = async () => {
    setError(null);
    try {
      const q = query(props.task);
      setFetched(await api<TaskResult>(`/api/tasks/result?id=${encodeURIComponent(q.taskId)}${q.idempotencyKey ? `&key=${encodeURIComponent(q.idempotencyKey)}` : ''}`));
    } catch (e) {
      setError((e as Error).message);
    }
  };
  return html`<span data-testid="task-result-ref">stored in S3, ${ref.size} bytes <span class="muted">(s3://${ref.bucket}/${ref.key})</span></span>
    ${fetched === null
      ? html` <button type="button" onClick=${fetchResult} data-testid="fetch-result">Fetch the result</button>`
      : fetched.resultError !== undefined
        ? html`<p class="error" data-testid="task-result-error">${fetched.resultError}</p>`
        : html`<pre data-testid="task-result">${JSON.stringify(fetched.result, null, 2)}</pre>`}
    ${error && html`<p class="error">${error}</p>`}`;
}

const LABELS: Record<TimelineEvent['kind'], string> = {
  accepted: 'accepted',
  'attempt-failed': 'attempt failed',
  'attempt-running': 'attempt running',
  'retry-due': 'next attempt due',
  succeeded: 'succeeded',
  'dead-lettered': 'dead-lettered',
  cancelled: 'cancelled',
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
