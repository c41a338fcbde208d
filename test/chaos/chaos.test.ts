/**
 * Chaos suite: N tasks through the local system under a seeded schedule of faults, then
 * the promises checked — nothing lost, no effect applied twice, nothing acknowledged
 * unrecorded, every cycle bounded, every dead letter with its cause, FIFO order within a
 * group, the DLQ alarm honest. Two variants: a standard queue and a FIFO queue with several
 * message groups.
 *
 *   npm test                 short run (TASKQ_CHAOS_TASKS unset: 300 tasks; FIFO 100); the standard
 *                            variant under a rate limit with debounced sends (TASKQ_CHAOS_FLOW=0: without)
 *   npm run test:chaos       full run (10,000 tasks; FIFO 600 — fauxqs serves one message per
 *                            group per receive, so a FIFO run's throughput is bound to its groups),
 *                            and the model-based test's long run (test/model)
 *   TASKQ_CHAOS_SEED=…       replay another schedule (the summary line prints the seed)
 *   TASKQ_CHAOS_FIFO_TASKS=… size of the FIFO variant
 *
 * What runs: the synthesized template's queues, table, bucket and alarms provisioned on the
 * emulators (with `taskq:fifo` for the FIFO variant); the real runtime (defineTasks with a
 * `chaos` task type) invoked by the real local event-source poller (the template's batch size,
 * ReportBatchItemFailures, several invocations at once); tasks sent with TaskProducer.sendBatch
 * (some claim-checked) and by third-party producers. Test settings, not the template's:
 * function timeout 5 s and visibility 15 s (so crashed batches come back within seconds),
 * backoff base 1 s capped at 2 s, maxAttempts 4 (below the redrive policy's maxReceiveCount of
 * 5, which the consumer is given as the construct gives it), handler timeout 400 ms, takeover
 * grace 8 s (lease + grace stays below the visibility timeout, as the defaults keep it),
 * maxNoAttemptReturns 4 (bound 8 receives); the FIFO variant (chaos-fifo.test.ts) spreads its tasks over 16 groups.
 *
 * Faults (harness/fault-plan.ts, injected by SDK middleware on the consumer's clients or by the
 * harness; each counted when it happens, and the summary prints every count):
 * - exception: handlers throw — flaky tasks 1–2 times then succeed; poison tasks always
 *   (attempts exhausted → DLQ); a few throw PermanentError (→ DLQ at once).
 * - timeout: handlers overrun their timeoutMs (the runtime aborts ctx.signal).
 * - functionTimeout: an invocation's completion write hangs on the network until the
 *   function times out; the poller fails the whole batch.
 * - crash: the consumer process dies right after K records' effects; the poller fails the
 *   whole batch and its messages return after the visibility timeout.
 * - duplicate: the same task sent again by the producer, in the burst and later;
 *   redelivery: a message made visible again while its invocation still runs it.
 * - dynamoThrottle: throttling error responses on the consumer's DynamoDB client (scattered,
 *   plus storms that exhaust the SDK's retries); s3Error: 503 SlowDown / 500 InternalError on
 *   GetObject of claim objects (up to 4 in a row: more than the SDK's 3 tries).
 * - lostResponse: a write is applied and its response lost (the connection resets), so the
 *   SDK's retry meets its own first try — on every write the runtime makes, each forced on its
 *   first occurrence (the second summary line counts them): BatchExecuteStatement INSERTs,
 *   UpdateItem acquires and redrive resets, BatchWriteItem completions, PutItem conditional
 *   writes, SendMessage to the DLQ and to the source queue, ChangeMessageVisibilityBatch,
 *   DeleteObjects.
 * - itemThrottle: some keys' INSERTs are refused once with a per-statement throttling error
 *   (BatchExecuteStatement), and their completions' BatchWriteItem items come back as
 *   UnprocessedItems for 8 s from the first — longer than every retry budget — while the rest of
 *   each request is applied: those completions travel in outcome copies.
 * - tableDenied: every task-table request naming some keys is refused with AccessDenied (or a
 *   disabled KMS key) → the bound ends them as table-unavailable; s3Denied: GetObject of some
 *   claim objects refused with AccessDenied / KMS.DisabledException → claim-unreadable.
 * - redrive: during the run the harness acts as an operator: it fixes some poison, permanent
 *   and denied tasks and redrives them (as `taskq dlq redrive` does, with redriveAttributes, or
 *   as StartMessageMoveTask does, attributes kept), and redrives some unfixed poison tasks
 *   (dead-lettered again, once); redriveTwice: a redriven copy delivered a second time;
 *   moveTwoCopies: a move carrying two copies of one task's dead letter.
 * - sharedClaim: a third-party producer uploads one object and sends it as several tasks
 *   (payloadRef without `exclusive`: never deleted); extendedClient: AWS SQS Extended Client
 *   pointers (Java, legacy Java and Python styles, both size attributes).
 * - burst: all N tasks sent at once, far above concurrency × batch size.
 * - cancel: right after the burst the producer cancels some tasks (transient causes only),
 *   some of them duplicated in the burst and later: a task not running when cancelled must
 *   never start a run afterwards and must end CANCELLED with no effect (one cancelled while
 *   running may end SUCCEEDED: the documented window).
 *
 * - fanOut (standard variant; TASKQ_CHAOS_FANOUT_EVENTS, default 30, 300 in the full run, 0 for
 *   none): the stack has two lanes, one per target of an event (harness/fan-out.ts); the events
 *   are published with TaskProducer.publish through the stack's routing table, some again in the
 *   burst and later (the same eventId); each lane's consumer is polled like the default lane's,
 *   on the same faulted clients, with crashes, hangs and in-flight re-deliveries of its own
 *   invocations; one target fails a few times for some events and permanently for others. Every
 *   target of every event runs exactly once (key `<eventId>:<target>`), a permanent failure is
 *   dead-lettered with its reason, and no target re-runs without a cause of its own.
 *
 * The effect and the contract (harness/ledger.ts): a handler applies its effect as its last
 * step. In lease mode the platform must never run a handler again once a run is known to have
 * finished (SUCCEEDED recorded), nor while another copy holds the lease. What it cannot see is
 * a run that applied its effect and died before its completion reached the table: re-running
 * that task is correct at-least-once behaviour, and the ledger excuses exactly those effects
 * (observed at the wire: the run's SUCCEEDED never reached the table, and no outcome copy
 * carrying it reached the queue). Repeated effects inside the windows the README names are
 * classified apart — `excusedByWindow{copyNotRecorded,bothRefused}` (README "Not promised", "One effect when both
 * stores refuse"): the completion refused and its outcome copy not recorded before another copy
 * took the task over after lease + grace; the completion and the outcome copy both refused, so
 * the message came back — and every other repeated
 * effect is a double effect. The invariants are listed in harness/invariants.ts; stray DLQ
 * copies and status mismatches (a dead-lettered task whose record the table refused to
 * write) are counted, not failed.
 */
import { chaosTest, TASKS } from './harness/chaos-test.ts';

chaosTest({ fifo: false, tasks: TASKS });
