/**
 * Groups across lanes (issue 14.4): members in two lanes and the callback in a third, on a
 * stack with lanes provisioned from its template. Each lane's consumer counts its own members;
 * the one that counts the last member sends the callback to the callback type's lane (the
 * routing table in its environment), where it runs once with the counts.
 */
import { describe, expect, it } from 'vitest';
import { TaskProducer } from '../../../lib/client/index.ts';
import type { GroupResult } from '../../../lib/protocol/group.ts';
import type { TaskDefinitions } from '../../../lib/runtime/index.ts';
import { testClients, uniqueName } from '../../support/aws.ts';
import { deployLanes, laneConsumer } from './lane-system.ts';

const clients = testClients();

describe('groups across lanes', { timeout: 180_000 }, () => {
  it('members in two lanes, the callback in a third: counted by each lane, the callback runs once in its own lane', async () => {
    const system = await deployLanes(uniqueName('Groups'), { lanes: { critical: { types: ['charge'] }, bulk: { types: ['reindex'] }, reports: { types: ['group_report'] } } });
    const producer = new TaskProducer({ queueUrl: system.outputs.QueueUrl!, tableName: system.outputs.TableName!, routing: true, sqs: clients.sqs, dynamo: clients.dynamo });
    const ran: string[] = [];
    const reports: (GroupResult | undefined)[] = [];
    const tasks: TaskDefinitions = {
      charge: { handler: (p: { n: number }) => void ran.push(`charge ${p.n}`) },
      reindex: { handler: (p: { n: number }) => void ran.push(`reindex ${p.n}`) },
      group_report: { handler: (_p, ctx) => void reports.push(ctx.groupResult) },
    };
    const critical = laneConsumer(system, 'critical', tasks);
    const bulk = laneConsumer(system, 'bulk', tasks);
    const reportsLane = laneConsumer(system, 'reports', tasks);
    const sent = await producer.sendGroup(
      [
        { type: 'charge', payload: { n: 1 } },
        { type: 'reindex', payload: { n: 2 } },
        { type: 'reindex', payload: { n: 3 } },
      ],
      { onComplete: { type: 'group_report', payload: {} } },
    );
    expect(sent.unsent).toBe(0);
    expect(await critical()).toBe(1);
    expect(await reportsLane()).toBe(0); // not complete yet: no callback anywhere
    expect(await producer.getGroupStatus(sent.groupId, { consistentRead: true })).toMatchObject({ status: 'OPEN', succeeded: 1, pending: 2 });
    expect(await bulk()).toBe(2);
    expect(ran.sort()).toEqual(['charge 1', 'reindex 2', 'reindex 3']);
    // The bulk lane counted the last member and sent the callback to the reports lane.
    expect(await reportsLane()).toBe(1);
    expect(reports).toEqual([{ groupId: sent.groupId, total: 3, succeeded: 3, deadLettered: 0, cancelled: 0 }]);
    expect(await critical()).toBe(0);
    expect(await bulk()).toBe(0);
    expect(await producer.getGroupStatus(sent.groupId, { consistentRead: true })).toMatchObject({ status: 'COMPLETE', callbackSentAt: expect.any(String) });
    producer.destroy();
  });
});
