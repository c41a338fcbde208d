/** Alarm states, one badge each (ALARM red, OK green, INSUFFICIENT_DATA grey). */
import { html } from '../html.ts';
import type { Alarm } from '../types.ts';

export function AlarmList(props: { alarms: Alarm[] | null; note?: string | undefined }) {
  if (!props.alarms) return html`<p class="muted">Alarms unavailable${props.note ? `: ${props.note}` : ''}</p>`;
  if (props.alarms.length === 0) return html`<p class="muted">No alarms${props.note ? `: ${props.note}` : ''}</p>`;
  return html`<ul class="alarms">
    ${props.alarms.map(
      (a) => html`<li data-testid="alarm" data-state=${a.state} title=${a.reason ?? ''}>
        <span class=${`badge ${a.state.toLowerCase()}`}>${a.state}</span> <span class="alarm-name">${a.name}</span>
      </li>`,
    )}
  </ul>`;
}

