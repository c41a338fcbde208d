/** The chaos suite's FIFO variant: see chaos.test.ts. */
import { chaosTest, FIFO_TASKS } from './harness/chaos-test.ts';

chaosTest({ fifo: true, tasks: FIFO_TASKS });
