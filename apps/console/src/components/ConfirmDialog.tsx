import { useEffect, useRef } from 'react';

interface Props {
  open: boolean;
  title: string;
  message: string;
  confirmLabel: string;
  cancelLabel: string;
  onConfirm: () => void;
  onClose: () => void;
}

/**
 * A modal question. The browser's own dialog keeps focus inside and closes on Escape; the safe
 * answer has the focus first, and the focus goes back where it was when the dialog closes.
 */
export function ConfirmDialog({ open, title, message, confirmLabel, cancelLabel, onConfirm, onClose }: Props) {
  const dialog = useRef<HTMLDialogElement>(null);
  const safe = useRef<HTMLButtonElement>(null);
  useEffect(() => {
    const element = dialog.current;
    if (!element || !open) return;
    const before = document.activeElement as HTMLElement | null;
    element.showModal();
    safe.current?.focus();
    return () => {
      if (element.open) element.close();
      before?.focus();
    };
  }, [open]);
  return (
    <dialog
      ref={dialog}
      className="dialog"
      aria-labelledby="dialog-title"
      aria-describedby="dialog-message"
      // The close event comes a task after close(): one from a close before the dialog opened again is not this one's.
      onClose={(event) => {
        if (!event.currentTarget.open) onClose();
      }}
    >
      <h2 id="dialog-title">{title}</h2>
      <p id="dialog-message">{message}</p>
      <div className="dialog-actions">
        <button ref={safe} type="button" onClick={onClose}>
          {cancelLabel}
        </button>
        <button type="button" className="danger" onClick={onConfirm}>
          {confirmLabel}
        </button>
      </div>
    </dialog>
  );
}
