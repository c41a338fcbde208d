/**
 * Hard limits of the services (checked against AWS documentation, see ../shared/DESIGN.md)
 * and the protocol's own bounds. Producer and consumer validate against the same numbers.
 */

/** SQS maximum message size (body + message attributes), since 2025. */
export const SQS_MAX_MESSAGE_BYTES = 1_048_576;
/** SendMessageBatch: at most 10 entries and 1 MiB in total. */
export const SQS_BATCH_MAX_ENTRIES = 10;
export const SQS_BATCH_MAX_BYTES = 1_048_576;
/** SQS bills each 64 KiB chunk of a request's payload as one request. */
export const SQS_BILLING_CHUNK_BYTES = 65_536;
/** DelaySeconds range on SendMessage. */
export const SQS_MAX_DELAY_SECONDS = 900;
/** ChangeMessageVisibility upper bound (12 hours). */
export const SQS_MAX_VISIBILITY_SECONDS = 43_200;
/** SQS allows at most 10 message attributes per message. */
export const SQS_MAX_MESSAGE_ATTRIBUTES = 10;

/** Task types: a letter, then letters, digits, `_`, `-`, `.` or `:`; 1–64 characters. */
export const TASK_TYPE_PATTERN = /^[A-Za-z][A-Za-z0-9_.:-]{0,63}$/;
/** Task ids: 1–128 characters of letters, digits, `_`, `-`, `.` or `:`. */
export const TASK_ID_PATTERN = /^[A-Za-z0-9_.:-]{1,128}$/;
/** Idempotency keys: 1–256 characters, no control characters (they become a DynamoDB key). */
export const IDEMPOTENCY_KEY_MAX_LENGTH = 256;
// eslint-disable-next-line no-control-regex
export const CONTROL_CHARACTERS = /[\u0000-\u001f\u007f]/;

/**
 * Room a message must leave below the queue's maximum size so that the consumer can forward
 * it to the DLQ with the DEAD_LETTER_ATTRIBUTES added (their names, types and values take
 * under 1 KB; lastError ≤ 256 characters). The producer never sends an inline message larger
 * than the queue's maximum minus this.
 */
export const DEAD_LETTER_HEADROOM_BYTES = 4096;

/**
 * Default size above which a message (body + attributes, as SQS counts it) travels by claim
 * check (S3) instead of inline: 1 MiB − DEAD_LETTER_HEADROOM_BYTES = 1,044,480 bytes, i.e.
 * only messages that cannot go inline. With the TaskQueue's claim-object lifetime (19 days by
 * default) a claim check costs more than inline at every size SQS accepts: S3 storage alone
 * ($0.88 per million per 64 KiB kept 19 days) exceeds SQS's $0.80 per million per 64 KiB
 * (send + receive), before the PUT and GET ($5.40 per million).
 * See docs/PROTOCOL.md "Choosing the claim-check threshold" for the figures.
 */
export const DEFAULT_CLAIM_CHECK_THRESHOLD_BYTES = SQS_MAX_MESSAGE_BYTES - DEAD_LETTER_HEADROOM_BYTES;
/** Default largest payload accepted at all (claim-checked), so a consumer can hold it in memory. */
export const DEFAULT_MAX_PAYLOAD_BYTES = 32 * 1024 * 1024;
