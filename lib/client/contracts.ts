/**
 * The producer's side of task contracts: which contract a send names (a contract, or a type
 * string looked up among the contracts the producer was given), and the payload checked
 * against its schema before anything is sent.
 */
import { checkPayload, describeIssues, isTaskContract, type TaskContract } from '../protocol/contract.ts';
import { TaskValidationError } from '../protocol/errors.ts';

export class ContractRegistry {
  private readonly byType: ReadonlyMap<string, TaskContract> | undefined;

  /** `contracts` undefined: any type string is sent unchecked (no contracts known). */
  constructor(contracts: readonly TaskContract[] | undefined) {
    if (contracts === undefined) return;
    const byType = new Map<string, TaskContract>();
    for (const contract of contracts) {
      if (!isTaskContract(contract)) throw new TaskValidationError('CONFIGURATION', 'TaskProducer: contracts must be made by defineContract()');
      if (byType.has(contract.type) && byType.get(contract.type) !== contract) {
        throw new TaskValidationError('CONFIGURATION', `TaskProducer: two contracts for task type ${contract.type}`);
      }
      byType.set(contract.type, contract);
    }
    this.byType = byType;
  }

  /** The type to send and the contract to check it with (none: a type string and no contracts given). */
  resolve(typeOrContract: string | TaskContract): { readonly type: string; readonly contract: TaskContract | undefined } {
    if (isTaskContract(typeOrContract)) return { type: typeOrContract.type, contract: typeOrContract };
    if (this.byType === undefined) return { type: typeOrContract, contract: undefined };
    const contract = this.byType.get(typeOrContract);
    if (!contract) {
      throw new TaskValidationError(
        'UNKNOWN_TASK_TYPE',
        `task type ${JSON.stringify(typeOrContract)} has no contract among the producer's (${[...this.byType.keys()].sort().join(', ')}): nothing was sent`,
      );
    }
    return { type: typeOrContract, contract };
  }

  /** Throws SCHEMA_VIOLATION, naming each field and rule, when the payload breaks the contract. */
  async check(contract: TaskContract | undefined, payload: unknown): Promise<void> {
    if (!contract) return;
    const result = await checkPayload(contract, payload);
    if (!result.ok) {
      throw new TaskValidationError('SCHEMA_VIOLATION', `payload of ${contract.type} breaks its contract: ${describeIssues(result.issues)}`, { issues: result.issues });
    }
  }
}
