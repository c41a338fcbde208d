/**
 * The DLQ of a lane: every dead letter with its reason, type, attempts and age; filters by
 * reason and type; peek one (its details and group, the body only on request); redrive the chosen
 * messages, one type or all, with progress; purge. Every change asks first.
 */
import { useEffect, useMemo, useState } from 'preact/hooks';
import { Link } from 'wouter-preact';
import { api } from '../api.ts';
import { ConfirmDialog, type ConfirmRequest } from '../components/confirm-dialog.ts';
import { formatAge, formatBytes, formatTime } from '../format.ts';
import { html } from '../html.ts';
import type { DeadLetter, DeadLetterListing, RedriveJob } from '../types.ts';
import { usePolling } from '../use-polling.ts';

const ANY = '';

export function DeadLetterPage(props: { lane: string }) {
  const path = `/api/lanes/${encodeURIComponent(props.lane)}/dlq`;
  const listing = usePolling(() => api<DeadLetterListing>(path), 4000, [path]);
  const [reason, setReason] = useState(ANY);
  const [type, setType] = useState(ANY);
  const [selected, setSelected] = useState<ReadonlySet<string>>(new Set());
  const [peeked, setPeeked] = useState<string | null>(null);
  const [confirm, setConfirm] = useState<ConfirmRequest | null>(null);
  const [job, setJob] = useState<RedriveJob | null>(null);
  const [notice, setNotice] = useState<string | null>(null);
  const [failure, setFailure] = useState<string | null>(null);

  const messages = listing.data?.messages ?? [];
  const reasons = useMemo(() => [...new Set(messages.map((m) => m.reason ?? '(none)'))].sort(), [messages]);
  const types = useMemo(() => [...new Set(messages.map((m) => m.type ?? '(unknown)'))].sort(), [messages]);
  const shown = messages.filter((m) => (reason === ANY || (m.reason ?? '(none)') === reason) && (type === ANY || (m.type ?? '(unknown)') === type));
  const chosen = shown.filter((m) => selected.has(m.messageId)).map((m) => m.messageId);

  // Follows a running redrive until it ends, then lists the DLQ again.
  useEffect(() => {
    if (!job || job.state !== 'running') return;
    const timer = setInterval(async () => {
      try {
        const next = await api<RedriveJob>(`/api/jobs/${job.id}`);
        setJob(next);
        if (next.state !== 'running') {
          if (next.state === 'done' && next.result) setNotice(`Redrive done: ${next.result.moved} moved, ${next.result.skipped} left in the DLQ, ${next.result.failed} failed.`);
          if (next.state === 'failed') setFailure(`Redrive failed: ${next.error}`);
          setSelected(new Set());
          listing.reload();
        }
      } catch (e) {
        setFailure((e as Error).message);
      }
    }, 500);
    return () => clearInterval(timer);
  }, [job?.id, job?.state]);

  const redrive = (body: { type?: string; messageIds?: string[] }, what: string) =>
    setConfirm({
      title: 'Redrive',
      message: `Move ${what} back to the source queue of lane ${props.lane}? The tasks run again.`,
      confirmLabel: 'Redrive',
      onConfirm: async () => {
        setNotice(null);
        setFailure(null);
        try {
          setJob(await api<RedriveJob>(`${path}/redrive`, { method: 'POST', body: { ...body, confirm: 'redrive' } }));
        } catch (e) {
          setFailure((e as Error).message);
        }
      },
    });

  const purge = () =>
    setConfirm({
      title: 'Purge the DLQ',
      message: `Delete every message in the DLQ of lane ${props.lane}, for good? This cannot be undone.`,
      confirmLabel: 'Purge',
      danger: true,
      onConfirm: async () => {
        setNotice(null);
        setFailure(null);
        try {
          const result = await api<{ approximateMessagesBefore: number }>(`${path}/purge`, { method: 'POST', body: { confirm: 'purge' } });
          setNotice(`Purged (about ${result.approximateMessagesBefore} messages).`);
          listing.reload();
        } catch (e) {
          setFailure((e as Error).message);
        }
      },
    });

  const toggle = (id: string) => {
    const next = new Set(selected);
    if (next.has(id)) next.delete(id);
    else next.add(id);
    setSelected(next);
  };
  const running = job?.state === 'running' || listing.data?.busy === true;

  return html`<div>
    <h2>Dead-letter queue of lane <code>${props.lane}</code></h2>
    <div class="toolbar">
      <label>Reason <select value=${reason} onChange=${(e: Event) => setReason((e.target as HTMLSelectElement).value)} data-testid="filter-reason">
        <option value=${ANY}>any</option>
        ${reasons.map((r) => html`<option value=${r}>${r}</option>`)}
      </select></label>
      <label>Type <select value=${type} onChange=${(e: Event) => setType((e.target as HTMLSelectElement).value)} data-testid="filter-type">
        <option value=${ANY}>any</option>
        ${types.map((t) => html`<option value=${t}>${t}</option>`)}
      </select></label>
      <span class="spacer"></span>
      <button type="button" disabled=${running || chosen.length === 0} onClick=${() => redrive({ messageIds: chosen }, `${chosen.length} chosen message(s)`)} data-testid="redrive-selected">Redrive selected (${chosen.length})</button>
      <button type="button" disabled=${running || type === ANY || type === '(unknown)'} onClick=${() => redrive({ type }, `every ${type} task`)} data-testid="redrive-type">Redrive type${type === ANY ? '' : ` ${type}`}</button>
      <button type="button" disabled=${running || messages.length === 0} onClick=${() => redrive({}, 'every message')} data-testid="redrive-all">Redrive all</button>
      <button type="button" class="danger" disabled=${running} onClick=${purge} data-testid="purge">Purge…</button>
    </div>
    ${job && job.state === 'running' && html`<div class="progress" data-testid="redrive-progress">
      <progress value=${job.progress?.done ?? 0} max=${Math.max(1, job.progress?.total ?? 1)}></progress>
      <span>${job.progress ? `${job.progress.moved} moved · ${job.progress.skipped} left · ${job.progress.failed} failed (${job.progress.method})` : 'starting…'}</span>
    </div>`}
    ${notice && html`<p class="notice" role="status" data-testid="dlq-notice">${notice}</p>`}
    ${failure && html`<p class="error" role="alert">${failure}</p>`}
    ${listing.error && html`<p class="error">${listing.error}</p>`}
    ${listing.data?.busy && html`<p class="muted">A redrive is running: the list refreshes when it ends.</p>`}
    ${listing.data && messages.length === 0 && html`<p class="muted" data-testid="dlq-empty">The DLQ is empty.</p>`}
    ${shown.length > 0 &&
    html`<table class="dlq" data-testid="dlq-table">
      <thead><tr><th></th><th>Reason</th><th>Type</th><th>Attempts</th><th>Age</th><th>Task</th><th>Last error</th><th></th></tr></thead>
      <tbody>
        ${shown.map(
          (m) => html`<tr data-testid="dlq-row" data-type=${m.type ?? ''} data-reason=${m.reason ?? ''}>
              <td><input type="checkbox" checked=${selected.has(m.messageId)} onChange=${() => toggle(m.messageId)} aria-label="choose" /></td>
              <td>${m.reason ?? html`<span class="muted">(redrive policy)</span>`}</td>
              <td>${m.type ?? '—'}</td>
              <td>${m.attempts ?? '—'}</td>
              <td>${formatAge(m.ageSeconds)}</td>
              <td>${m.taskId ? html`<${Link} href=${`/tasks/${encodeURIComponent(m.taskId)}`}><code>${m.taskId}</code></${Link}>` : '—'}</td>
              <td class="error-text">${m.lastError ?? ''}</td>
              <td><button type="button" onClick=${() => setPeeked(peeked === m.messageId ? null : m.messageId)} data-testid="peek">${peeked === m.messageId ? 'Close' : 'Peek'}</button></td>
            </tr>
            ${peeked === m.messageId && html`<tr class="peek"><td colspan="8"><${Peek} message=${m} path=${path} /></td></tr>`}`,
        )}
      </tbody>
    </table>`}
    <${ConfirmDialog} request=${confirm} onClose=${() => setConfirm(null)} />
  </div>`;
}

function Peek(props: { message: DeadLetter; path: string }) {
  const m = props.message;
  const [body, setBody] = useState<string | null>(null);
  const [error, setError] = useState<string | null>(null);
  const showBody = async () => {
    try {
      const listing = await api<DeadLetterListing>(`${props.path}?showBody=1`);
      const found = listing.messages.find((x) => x.messageId === m.messageId);
      setBody(found?.body ?? '(the message is no longer in the DLQ)');
    } catch (e) {
      setError((e as Error).message);
    }
  };
  return html`<div class="peek-details" data-testid="peek-details">
    <dl class="facts">
      <dt>Message id</dt><dd><code>${m.messageId}</code></dd>
      <dt>Created</dt><dd>${formatTime(m.createdAt)}</dd>
      <dt>Dead-lettered</dt><dd>${formatTime(m.deadLetteredAt)}</dd>
      <dt>Received from the DLQ</dt><dd>${m.receiveCount ?? '—'} times</dd>
      <dt>Claim check</dt><dd>${m.claimCheck ? html`${formatBytes(m.claimCheck.size)} <span class="muted">(s3://${m.claimCheck.bucket}/${m.claimCheck.key})</span>` : 'none (payload inline)'}</dd>
      ${m.group && html`<dt>Group</dt><dd data-testid="peek-group"><${Link} href=${`/groups/${encodeURIComponent(m.group)}`}><code>${m.group}</code></${Link}></dd>`}
    </dl>
    ${body === null
      ? html`<button type="button" onClick=${showBody} data-testid="show-body">Show body (may contain personal data)</button>`
      : html`<pre data-testid="message-body">${body}</pre>`}
    ${error && html`<p class="error">${error}</p>`}
  </div>`;
}
