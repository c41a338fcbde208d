export { TaskProducer, type SendResult, type BatchSendResult } from './task-producer.ts';
export { PRODUCER_DEFAULTS, type TaskProducerConfig, type ClaimCheckFormat, type RetryConfig } from './config.ts';
export { taskOf, type SendOptions, type TaskInput } from './task-message.ts';
export { defineContract, isTaskContract, payloadJsonSchema, type TaskContract, type TaskContractDefaults, type ContractInput, type ContractOutput, type PayloadIssue } from '../protocol/contract.ts';
export { taskStatusFromItem, type GetTaskStatusOptions } from './task-status.ts';
export { packBatches } from './batch-packing.ts';
export { TaskQueueError, TaskValidationError, BackpressureError, SendError, TaskOutcomeError, type TaskOutcomeCode } from '../protocol/errors.ts';
export type { CancelOptions, CancelResult } from './task-cancel.ts';
export type { TaskStatus, TaskStatusView } from '../protocol/task-record.ts';
