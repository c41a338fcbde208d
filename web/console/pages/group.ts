/**
 * A group (producer.sendGroup), as `taskq group` shows it: OPEN or COMPLETE, its member count
 * and how many succeeded, were dead-lettered, cancelled or are pending; its callback (type,
 * task, and its status once it ran); and its members a page at a time, each linking to its
 * task page. An unknown group id is a page that says so (GROUP_NOT_FOUND), a malformed one too.
 */
import { useState } from 'preact/hooks';
import { Link } from 'wouter-preact';
import { api, ApiError } from '../api.ts';
import { formatTime } from '../format.ts';
import { html } from '../html.ts';
import type { GroupPage as GroupPageData, GroupTaskState } from '../types.ts';
import { usePolling } from '../use-polling.ts';

const PER_PAGE = 50;

/** A group that is not there, or an id that cannot be one: shown as a page, not as a failure to load. */
interface Refused {
  refused: { status: number; code: string; message: string };
}

export function GroupPage(props: { groupId: string; intervalMs: number }) {
  const [offset, setOffset] = useState(0);
  const path = `/api/groups/${encodeURIComponent(props.groupId)}?offset=${offset}&limit=${PER_PAGE}`;
  const loaded = usePolling(
    () =>
      api<GroupPageData>(path).catch((e: unknown): Refused => {
        if (e instanceof ApiError && (e.status === 404 || e.status === 400)) return { refused: { status: e.status, code: e.code, message: e.message } };
        throw e;
      }),
    props.intervalMs,
    [path],
  );
  const data = loaded.data;
  return html`<div>
    ${loaded.error && html`<p class="error" role="alert" data-testid="group-load-error">${loaded.error}</p>`}
    ${data && 'refused' in data && html`<${GroupRefused} groupId=${props.groupId} refused=${data.refused} />`}
    ${data && 'group' in data && html`<${GroupDetails} view=${data} onPage=${setOffset} />`}
  </div>`;
}

function GroupRefused(props: { groupId: string; refused: Refused['refused'] }) {
  const { status, code, message } = props.refused;
  return html`<section data-testid="group-refused" data-code=${code} data-status=${status}>
    <h2>${status === 404 ? 'No such group' : 'Not a group id'} <code>${props.groupId}</code></h2>
    <p class="error" role="alert" data-testid="group-error"><strong>${code}</strong> ${message}</p>
  </section>`;
}

function GroupDetails(props: { view: GroupPageData; onPage: (offset: number) => void }) {
  const { group, callback, members } = props.view;
  const counts: [string, string, number][] = [
    ['succeeded', 'Succeeded', group.succeeded],
    ['dead-lettered', 'Dead-lettered', group.deadLettered],
    ['cancelled', 'Cancelled', group.cancelled],
    ['pending', 'Pending', group.pending],
  ];
  const last = Math.min(group.total, members.offset + members.items.length);
  return html`<section class="group" data-testid="group">
    <h2>Group <code>${group.groupId}</code> <span class=${`status ${group.status === 'COMPLETE' ? 'succeeded' : 'in_progress'}`} data-testid="group-status">${group.status}</span></h2>
    <div class="figures">
      <div class="figure" data-testid="group-total"><div class="value">${group.total}</div><div class="label">Members</div></div>
      ${counts.map(
        ([id, label, value]) => html`<div class=${`figure${id === 'dead-lettered' && value > 0 ? ' warn' : ''}`} data-testid=${`group-${id}`}><div class="value">${value}</div><div class="label">${label}</div></div>`,
      )}
    </div>
    <dl class="facts">
      <dt>Created</dt><dd>${formatTime(group.createdAt)}</dd>
      <dt>Callback</dt><dd data-testid="group-callback">${group.callback ? html`<${Callback} group=${group} state=${callback} />` : html`<span class="muted">none (sendGroup without onComplete)</span>`}</dd>
    </dl>
    <h3>Members ${members.offset + 1}–${last} of ${group.total}</h3>
    <table data-testid="group-members">
      <thead><tr><th>#</th><th>Task</th><th>Status</th><th>Attempts</th><th>Updated</th></tr></thead>
      <tbody>
        ${members.items.map(
          (m) => html`<tr data-testid="group-member" data-index=${m.index} data-status=${m.status ?? 'none'}>
            <td>${m.index}</td>
            <td><${Link} href=${`/tasks/${encodeURIComponent(m.taskId)}`} data-testid="group-member-link"><code>${m.taskId}</code></${Link}></td>
            <td><${TaskStatusBadge} state=${m} /></td>
            <td>${m.attempts ?? '—'}</td>
            <td>${formatTime(m.updatedAt)}</td>
          </tr>`,
        )}
      </tbody>
    </table>
    <p class="muted small">Members are read by the ids sendGroup gives them (<code>${`${group.groupId}.<index>`}</code>): a member sent with its own task id shows no record here.</p>
    ${group.total > members.limit &&
    html`<div class="toolbar">
      <button type="button" disabled=${members.offset === 0} onClick=${() => props.onPage(Math.max(0, members.offset - members.limit))} data-testid="group-previous">Previous</button>
      <button type="button" disabled=${last >= group.total} onClick=${() => props.onPage(members.offset + members.limit)} data-testid="group-next">Next</button>
    </div>`}
  </section>`;
}

function Callback(props: { group: GroupPageData['group']; state: GroupTaskState | null }) {
  const cb = props.group.callback!;
  return html`<strong>${cb.type}</strong> — task${' '}<${Link} href=${`/tasks/key/${encodeURIComponent(cb.idempotencyKey)}`} data-testid="group-callback-link"><code>${cb.taskId}</code></${Link}>
    ${' '}<span data-testid="group-callback-status">${props.state?.status
      ? html`<${TaskStatusBadge} state=${props.state} />`
      : props.group.callbackSentAt
        ? html`<span class="muted">sent ${formatTime(props.group.callbackSentAt)}, not received yet</span>`
        : html`<span class="muted">not sent yet (sent once every member reached a final state)</span>`}</span>`;
}

function TaskStatusBadge(props: { state: GroupTaskState }) {
  const s = props.state;
  if (!s.status) return html`<span class="muted" data-testid="task-state">no record yet</span>`;
  return html`<span class=${`status ${s.status.toLowerCase()}`} data-testid="task-state">${s.status}</span>${s.deadLetterReason ? html` <span class="muted small">${s.deadLetterReason}</span>` : ''}`;
}
