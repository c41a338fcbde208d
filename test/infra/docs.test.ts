/**
 * The docs against the code and the measurements:
 * - docs/CONFIGURATION.md documents every TaskQueueProps field, each with a doc comment and @default;
 * - every example in the README is executed somewhere: a code block is a verbatim excerpt of
 *   the example file it names (test/package/adoption.test.ts runs those files), and every
 *   shell command is one a named test runs;
 * - every figure in the README and docs/BENCHMARKS.md is one of bench/results.json's, as
 *   bench/RESULTS.md renders it (one source per figure);
 * - the record TTL the docs state is the construct's default.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { TASK_QUEUE_DEFAULTS } from '../../lib/infra/props.ts';

const read = (path: string) => readFileSync(new URL(`../../${path}`, import.meta.url), 'utf8');
const props = read('lib/infra/props.ts');
const readme = read('README.md');
const configuration = read('docs/CONFIGURATION.md');
// The cost model section states figures of bench/lib/lifecycle-cost.ts, not of a bench run: test/unit/lifecycle-cost.test.ts checks it.
const benchmarks = read('docs/BENCHMARKS.md').split('\n## Cost model')[0]!;
const resultsMd = read('bench/RESULTS.md');
const results = JSON.parse(read('bench/results.json'));
const pkg = JSON.parse(read('package.json')) as { version: string };
const body = props.slice(props.indexOf('export interface TaskQueueProps'), props.indexOf('export const TASK_QUEUE_DEFAULTS'));
const fields = [...body.matchAll(/readonly (\w+)\?:/g)].map((m) => m[1]!);

describe('the runbook', () => {
  const operations = readFileSync(new URL('../../docs/OPERATIONS.md', import.meta.url), 'utf8');

  it('names the consumer log group by its stack output, never as /aws/lambda/<function> (the construct gives it its own, generated name)', () => {
    expect(operations).not.toMatch(/\/aws\/lambda\/</);
    expect(operations).toContain('ConsumerLogGroupName');
    expect(readme).not.toMatch(/\/aws\/lambda\/</);
    for (const doc of ['LOCAL', 'PRODUCER', 'CONSUMER', 'GUARANTEES', 'CLI', 'CONFIGURATION', 'BENCHMARKS']) expect(read(`docs/${doc}.md`), doc).not.toMatch(/\/aws\/lambda\/</);
  });
});

describe('TaskQueueProps documentation', () => {
  it('finds the props', () => {
    expect(fields.length).toBeGreaterThan(30);
  });

  it.each(fields)('%s is in the docs/CONFIGURATION.md tables', (field) => {
    expect(configuration).toMatch(new RegExp(`^\\| \`${field}(\\.\\w+)?\` \\|`, 'm'));
  });

  it.each(fields.filter((f) => f !== 'alarmOptions'))('%s has a doc comment with @default', (field) => {
    const at = body.indexOf(`readonly ${field}?:`);
    const comment = body.slice(body.lastIndexOf('/**', at), at);
    expect(comment).toMatch(/@default/);
  });
});

/** The README's fenced blocks with the paragraph before each. */
function blocks(markdown: string): { lang: string; code: string; before: string }[] {
  return [...markdown.matchAll(/```(\w*)\n([\s\S]*?)```/g)].map((m) => ({
    lang: m[1]!,
    code: m[2]!,
    before: markdown.slice(Math.max(0, markdown.lastIndexOf('\n\n', m.index! - 2)), m.index),
  }));
}

/** Every shell line of the README, and the test that runs it. */
const COMMANDS_RUN_BY: Record<string, string> = {
  'npm ci': '.ci/run (every CI run starts with it)',
  'npm start': 'test/e2e/local-system.test.ts',
  'npx taskq --local send send_email \'{"to":"a@example.com"}\'': 'test/e2e/local-system.test.ts (and its follow-up status)',
  'npx taskq --local stats': 'test/e2e/local-system.test.ts',
  'npx cdk synth    # no AWS account needed': 'test/infra/stack.test.ts',
  [`npm install ../taskq/taskq-${pkg.version}.tgz`]: 'test/package/adoption.test.ts (the tarball npm pack makes)',
  'npx taskq local': 'test/package/adoption.test.ts',
};
/** Deploying needs an AWS account, which no test has. */
const NOT_RUNNABLE = ['npx cdk deploy -c taskq:alarmEmail=oncall@example.com'];

describe('README examples', () => {
  const all = blocks(readme);

  it('has the code blocks this test knows how to check', () => {
    expect(all.map((b) => b.lang).filter((l) => !['', 'sh', 'js', 'ts'].includes(l))).toEqual([]);
  });

  it.each(all.filter((b) => b.lang === 'js' || b.lang === 'ts').map((b) => [b.before.trim().split('\n')[0]!.slice(0, 60), b] as const))(
    'the block after "%s…" is an excerpt of the example file it names',
    (_label, block) => {
      const names = [...readme.slice(0, readme.indexOf(block.code)).matchAll(/From (examples\/\S+?\.(?:js|ts))\b/g)];
      const file = names.at(-1)?.[1];
      expect(file, 'a "From examples/…" line before the block').toBeDefined();
      expect(read(file!)).toContain(block.code.trimEnd());
    },
  );

  it('runs every shell command in a test (deploying excepted: it needs an AWS account)', () => {
    const lines = all.filter((b) => b.lang === 'sh').flatMap((b) => b.code.trim().split('\n'));
    expect(lines.filter((l) => !(l in COMMANDS_RUN_BY) && !NOT_RUNNABLE.includes(l))).toEqual([]);
  });

  it('is short enough to read in five minutes', () => {
    expect(readme.split('\n').length).toBeLessThanOrEqual(260);
  });
});

describe('figures agree with bench/results.json', () => {
  const s = results.throughput.summary;
  const n0 = (v: number) => Math.round(v).toLocaleString('en-US');
  const x2 = (v: number) => `${v.toFixed(2)}×`;

  it('README: throughput and its ratio', () => {
    expect(readme).toContain(`${n0(s['a-lease'].tasksPerSecond.median)} tasks/s against Powertools' ${n0(s['c-powertools'].tasksPerSecond.median)} (${x2(results.ratios.throughput_a_vs_c)})`);
  });

  it('README: like-for-like cost ratios', () => {
    const r = results.ratios;
    expect(readme).toContain(`${x2(r['cost_a-lease_vs_c_excl_s3'])} Powertools' in \`lease\` mode, ${x2(r['cost_a-record_vs_c_excl_s3'])} in \`record\``);
    expect(readme).toContain(`${x2(r['cost_a-off_vs_c_excl_s3'])} with idempotency \`off\``);
  });

  it("README: the CLI's start-up and a producer's installed size (section 6)", () => {
    const p = results.package;
    expect(p, 'bench/results.json has section 6 (npm run bench -- --only package)').toBeDefined();
    expect(readme).toContain(`\`taskq --help\` starts in ${n0(p.cliHelpMs.median)} ms`);
    expect(readme).toContain(`\`node -e 0\` takes ${n0(p.nodeBaselineMs.median)} ms`);
    expect(readme).toContain(`node_modules are ${(p.producerInstall.nodeModulesKiB / 1024).toFixed(1)} MiB`);
    expect(Object.values(p.producerInstall.absent).every(Boolean)).toBe(true);
  });

  it.each([
    ['README.md', readme],
    ['docs/BENCHMARKS.md', benchmarks],
  ])('%s: every tasks/s, × and $ figure is one bench/RESULTS.md shows', (_name, text) => {
    const figures = [
      ...[...text.matchAll(/(\d[\d,]*(?:\.\d+)?) tasks\/s/g)].map((m) => m[1]!),
      ...[...text.matchAll(/(\d+\.\d+)×/g)].map((m) => `${m[1]}×`),
      ...[...text.matchAll(/\$(\d+\.\d+)/g)].map((m) => `$${m[1]}`),
    ];
    expect(figures.length).toBeGreaterThan(0);
    for (const figure of figures) expect(resultsMd, figure).toContain(figure);
  });
});

describe('the record TTL', () => {
  const d = TASK_QUEUE_DEFAULTS;
  const days = d.retentionPeriod.toDays() + d.deadLetterRetentionPeriod.toDays() + d.retentionMargin.toDays();

  it("is stated as the construct's default wherever the docs give it", () => {
    expect(read('docs/GUARANTEES.md')).toContain(`retention + DLQ retention + 1 day = ${days} days by default`);
    expect(read('docs/CONSUMER.md')).toContain(`retention + 1 day: ${days} days with its defaults`);
  });

  it('is never given as 30 days except as the fallback without the construct', () => {
    for (const doc of ['README.md', 'docs/GUARANTEES.md', 'docs/CONSUMER.md', 'docs/PRODUCER.md', 'docs/BENCHMARKS.md']) {
      const text = read(doc);
      const mentions = [...text.matchAll(/30 days/g)].map((m) => text.slice(Math.max(0, m.index! - 200), m.index! + 20));
      for (const context of mentions) expect(context, doc).toMatch(/without that variable falls back to 30 days/);
    }
  });
});
