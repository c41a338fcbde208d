import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import type { StandardSchemaV1 } from '@standard-schema/spec';
import { checkPayload, defineContract, describeIssues, isTaskContract, payloadJsonSchema, type ContractInput, type ContractOutput } from '../../../lib/protocol/contract.ts';
import { ChargeCard, SendEmail } from '../../fixtures/contracts.ts';

/** A Standard Schema that is not a JSON Schema source (as a hand-written validator would be). */
const bare: StandardSchemaV1<{ n: number }> = {
  '~standard': {
    version: 1,
    vendor: 'handmade',
    validate: (v) => (typeof (v as { n?: unknown })?.n === 'number' ? { value: v as { n: number } } : { issues: [{ message: 'must be a number', path: ['n'] }] }),
  },
};

describe('defineContract', () => {
  it('is recognised at run time and carries its defaults', () => {
    expect(isTaskContract(SendEmail)).toBe(true);
    expect(isTaskContract('send_email')).toBe(false);
    expect(isTaskContract({ type: 'send_email' })).toBe(false);
    expect(SendEmail.defaults).toEqual({ maxAttempts: 2 });
    expect(Object.isFrozen(SendEmail)).toBe(true);
  });

  it.each([
    ['a type outside the pattern', () => defineContract('send email', z.object({})), /defineContract\("send email"\): the type must match/],
    ['something that is no Standard Schema', () => defineContract('t', { parse: () => 1 } as never), /must be a Standard Schema/],
    ['an unknown idempotency mode', () => defineContract('t', z.object({}), { idempotency: 'never' as never }), /idempotency must be 'lease', 'record' or 'off', got "never"/],
    ['maxAttempts 0', () => defineContract('t', z.object({}), { maxAttempts: 0 }), /maxAttempts must be an integer ≥ 1, got 0/],
    ['a negative timeout', () => defineContract('t', z.object({}), { timeoutMs: -1 }), /timeoutMs must be a positive number, got -1/],
    ['a lane that is no lane name', () => defineContract('t', z.object({}), { lane: 'bulk lane' }), /lane must be a lane name/],
  ])('refuses %s, naming the contract and the rule', (_what, make, message) => {
    expect(make).toThrow(message);
  });

  it('types the producer side by the schema input and the handler side by its output', () => {
    const input: ContractInput<typeof ChargeCard> = { orderId: 'o-1', cents: 100 }; // currency optional on input…
    const output: ContractOutput<typeof ChargeCard> = { orderId: 'o-1', cents: 100, currency: 'EUR' }; // …always there on output
    // @ts-expect-error cents must be a number
    const wrong: ContractInput<typeof ChargeCard> = { orderId: 'o-1', cents: '100' };
    expect([input, output, wrong]).toHaveLength(3);
  });
});

describe('checkPayload', () => {
  it('returns the schema output (defaults applied) for a valid payload', async () => {
    expect(await checkPayload(ChargeCard, { orderId: 'o-1', cents: 5 })).toEqual({ ok: true, value: { orderId: 'o-1', cents: 5, currency: 'EUR' } });
  });

  it('names each field and rule, never the values', async () => {
    const result = await checkPayload(SendEmail, { to: 'secret-not-an-email', subject: 7 });
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(result.issues.map((i) => i.path)).toEqual(['to', 'subject']);
    const text = describeIssues(result.issues);
    expect(text).toMatch(/^to: .*email.*; subject: .*string/i);
    expect(text).not.toContain('secret-not-an-email');
  });
});

describe('payloadJsonSchema', () => {
  it("uses the schema's Standard JSON Schema converter (zod)", () => {
    const schema = payloadJsonSchema(SendEmail);
    expect(schema).toMatchObject({ type: 'object', required: ['to'], properties: { to: { type: 'string', format: 'email' }, subject: { type: 'string', maxLength: 200 } } });
  });

  it('prefers an explicit jsonSchema, and refuses a schema that has neither, naming the contract', () => {
    const explicit = defineContract('bare_ok', bare, { jsonSchema: { type: 'object', properties: { n: { type: 'number' } } } });
    expect(payloadJsonSchema(explicit)).toEqual({ type: 'object', properties: { n: { type: 'number' } } });
    expect(() => payloadJsonSchema(defineContract('bare_only', bare))).toThrow(/contract bare_only: its schema \(handmade\) does not implement Standard JSON Schema/);
  });
});
