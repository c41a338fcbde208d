/**
 * Turning an SQS record into a task envelope: our envelope v1 inline, or an AWS SQS
 * Extended Client pointer whose S3 object holds the envelope.
 */
import type { SQSRecord } from 'aws-lambda';
import { DEAD_LETTER_ATTRIBUTES, REDRIVE_ATTRIBUTES } from '../protocol/attributes.ts';
import { decodeEnvelope, type TaskEnvelope } from '../protocol/envelope.ts';
import {
  decodeExtendedClientPointer,
  EXTENDED_CLIENT_LEGACY_SIZE_ATTRIBUTE,
  EXTENDED_CLIENT_SIZE_ATTRIBUTE,
  looksLikeExtendedClientPointer,
  type ExtendedClientPointer,
} from '../protocol/extended-client.ts';

export type ParsedBody =
  | { readonly kind: 'envelope'; readonly envelope: TaskEnvelope }
  | { readonly kind: 'pointer'; readonly pointer: ExtendedClientPointer };

/** Parses the body; throws PoisonMessageError (with its dead-letter reason) when it never can be processed. */
export function parseBody(record: SQSRecord): ParsedBody {
  const body = record.body;
  if (looksLikeExtendedClientPointer(body)) {
    const attributes = record.messageAttributes ?? {};
    const size = attributes[EXTENDED_CLIENT_SIZE_ATTRIBUTE] ?? attributes[EXTENDED_CLIENT_LEGACY_SIZE_ATTRIBUTE];
    return { kind: 'pointer', pointer: decodeExtendedClientPointer(body, size?.stringValue) };
  }
  return { kind: 'envelope', envelope: decodeEnvelope(body) };
}

/**
 * The redrive identity of a copy an operator sent back from the DLQ, or undefined for any other
 * copy. `taskq.redriveId` is set by the CLI's manual redrive; StartMessageMoveTask keeps the
 * dead-letter attributes, whose `taskq.deadLetterId` names the dead-lettering. Older DLQ
 * messages (before those ids existed) are identified by their original messageId and
 * dead-lettering time, or by the CLI's `taskq.redrivenAt` and the message's id. A redrive id
 * is consumed once: the task record keeps the last one it reset for, so a second copy of the
 * same redrive is a plain copy (a leftover, if the task is DEAD_LETTERED again).
 */
export function redriveIdOf(record: SQSRecord): string | undefined {
  const a = record.messageAttributes ?? {};
  const value = (name: string) => a[name]?.stringValue;
  const explicit = value(REDRIVE_ATTRIBUTES.redriveId) ?? value(DEAD_LETTER_ATTRIBUTES.deadLetterId);
  if (explicit) return explicit;
  if (value(DEAD_LETTER_ATTRIBUTES.reason) !== undefined) {
    return `dead-letter:${value(DEAD_LETTER_ATTRIBUTES.originalMessageId) ?? ''}:${value(DEAD_LETTER_ATTRIBUTES.deadLetteredAt) ?? ''}`;
  }
  const redrivenAt = value(REDRIVE_ATTRIBUTES.redrivenAt);
  return redrivenAt !== undefined ? `redriven:${redrivenAt}:${record.messageId}` : undefined;
}
