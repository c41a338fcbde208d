/**
 * The confirmation every destructive action goes through: a modal <dialog> that says what
 * will happen; the action runs only on the confirm button (the server also requires the
 * confirmation word in the request).
 */
import { useEffect, useRef } from 'preact/hooks';
import { html } from '../html.ts';

export interface ConfirmRequest {
  readonly title: string;
  readonly message: string;
  readonly confirmLabel: string;
  readonly danger?: boolean;
  readonly onConfirm: () => void;
}

export function ConfirmDialog(props: { request: ConfirmRequest | null; onClose: () => void }) {
  const dialog = useRef<HTMLDialogElement>(null);
  useEffect(() => {
    const d = dialog.current;
    if (!d) return;
    if (props.request && !d.open) d.showModal();
    if (!props.request && d.open) d.close();
  }, [props.request]);
  const r = props.request;
  return html`<dialog ref=${dialog} class="confirm" data-testid="confirm-dialog" onClose=${props.onClose}>
    ${r &&
    html`<h2>${r.title}</h2>
      <p>${r.message}</p>
      <div class="actions">
        <button type="button" onClick=${props.onClose}>Cancel</button>
        <button
          type="button"
          class=${r.danger ? 'danger' : 'primary'}
          data-testid="confirm-button"
          onClick=${() => {
            r.onConfirm();
            props.onClose();
          }}
        >
          ${r.confirmLabel}
        </button>
      </div>`}
  </dialog>`;
}
