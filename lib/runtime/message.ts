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
 * True for a copy an operator sent back from the DLQ: `taskq.redrivenAt` (set by the CLI's
 * manual redrive, which removes the dead-letter attributes), or `taskq.reason` (kept by SQS
 * StartMessageMoveTask). Only such a copy runs a DEAD_LETTERED task again; any other copy of
 * it (SQS at-least-once delivery, a delete with a stale receipt handle) is a leftover.
 */
export function isRedrive(record: SQSRecord): boolean {
  const attributes = record.messageAttributes;
  return attributes?.[REDRIVE_ATTRIBUTES.redrivenAt] !== undefined || attributes?.[DEAD_LETTER_ATTRIBUTES.reason] !== undefined;
}
