/**
 * The console's page: a header with the target and the navigation, and five pages routed
 * by wouter-preact in the URL's hash (the query keeps the access token): overview, task, group,
 * DLQ, schedules.
 */
import { render } from 'preact';
import { Link, Route, Router, Switch } from 'wouter-preact';
import { useHashLocation } from 'wouter-preact/use-hash-location';
import { api } from './api.ts';
import { formatTime } from './format.ts';
import { html } from './html.ts';
import { DeadLetterPage } from './pages/dlq.ts';
import { GroupPage } from './pages/group.ts';
import { OverviewPage } from './pages/overview.ts';
import { SchedulesPage } from './pages/schedules.ts';
import { TaskPage } from './pages/task.ts';
import type { Overview } from './types.ts';
import { usePolling } from './use-polling.ts';

function App() {
  const overview = usePolling(() => api<Overview>('/api/overview'), 2000, []);
  const o = overview.data;
  const interval = o?.sampleIntervalMs ?? 2000;
  const firstLane = o?.lanes[0]?.name ?? 'default';
  return html`<${Router} hook=${useHashLocation}>
    <header>
      <h1>taskq console</h1>
      <nav>
        <${Link} href="/" data-testid="nav-overview">Overview</${Link}>
        <${Link} href="/tasks" data-testid="nav-task">Task</${Link}>
        <${Link} href=${`/dlq/${encodeURIComponent(firstLane)}`} data-testid="nav-dlq">DLQ</${Link}>
        <${Link} href="/schedules" data-testid="nav-schedules">Schedules</${Link}>
      </nav>
      <div class="target" data-testid="target">
        ${o ? html`${o.mode === 'local' ? 'local system' : 'AWS'}${o.stackName ? ` · ${o.stackName}` : ''}${o.region ? ` · ${o.region}` : ''} · sampled ${formatTime(o.sampledAt)}` : ''}
      </div>
    </header>
    ${overview.error && html`<p class="error" role="alert" data-testid="connection-error">${overview.error}</p>`}
    <main>
      <${Switch}>
        <${Route} path="/tasks/key/:key">${(p: { key: string }) => html`<${TaskPage} idempotencyKey=${decodeURIComponent(p.key)} intervalMs=${interval} />`}</${Route}>
        <${Route} path="/tasks/:id">${(p: { id: string }) => html`<${TaskPage} id=${decodeURIComponent(p.id)} intervalMs=${interval} />`}</${Route}>
        <${Route} path="/tasks">${() => html`<${TaskPage} intervalMs=${interval} />`}</${Route}>
        <${Route} path="/groups/:id">${(p: { id: string }) => html`<${GroupPage} groupId=${decodeURIComponent(p.id)} intervalMs=${interval} />`}</${Route}>
        <${Route} path="/schedules">${() => html`<${SchedulesPage} intervalMs=${interval} />`}</${Route}>
        <${Route} path="/dlq/:lane">${(p: { lane: string }) => html`<${DeadLetterPage} lane=${decodeURIComponent(p.lane)} />`}</${Route}>
        <${Route}>${() => html`<${OverviewPage} overview=${o} />`}</${Route}>
      </${Switch}>
    </main>
  </${Router}>`;
}

render(html`<${App} />`, document.getElementById('app')!);
