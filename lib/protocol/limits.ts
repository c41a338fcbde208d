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
 * Default size above which a payload travels by claim check (S3) instead of inline.
 * See docs/PROTOCOL.md "Choosing the claim-check threshold" for the cost reasoning.
 */
export const DEFAULT_CLAIM_CHECK_THRESHOLD_BYTES = 256 * 1024;
/** Default largest payload accepted at all (claim-checked), so a consumer can hold it in memory. */
export const DEFAULT_MAX_PAYLOAD_BYTES = 32 * 1024 * 1024;
