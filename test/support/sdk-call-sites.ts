/**
 * Where the code calls AWS: every `new …Command(` and `paginate…(` in a set of source files,
 * named by file, enclosing function and command — read with the TypeScript parser, so a new
 * call cannot slip past the permission tests that declare what each call site needs.
 */
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import ts from 'typescript';

export const REPOSITORY_ROOT = resolve(import.meta.dirname, '../..');

export interface SdkCallSite {
  /** `lib/runtime/sqs-actions.ts › resendCopy › SendMessage` */
  readonly id: string;
  readonly file: string;
  /** The enclosing named function, method or variable (`<module>` at top level). */
  readonly enclosing: string;
  /** The SDK operation, without `Command` (a paginator gives its operation). */
  readonly command: string;
}

/** SDK operation → the IAM action AWS authorizes it with (batch forms check the single action). */
export const IAM_ACTION_OF_COMMAND: Readonly<Record<string, string>> = {
  // SQS
  SendMessage: 'sqs:SendMessage',
  SendMessageBatch: 'sqs:SendMessage',
  ReceiveMessage: 'sqs:ReceiveMessage',
  DeleteMessage: 'sqs:DeleteMessage',
  DeleteMessageBatch: 'sqs:DeleteMessage',
  ChangeMessageVisibility: 'sqs:ChangeMessageVisibility',
  ChangeMessageVisibilityBatch: 'sqs:ChangeMessageVisibility',
  GetQueueAttributes: 'sqs:GetQueueAttributes',
  PurgeQueue: 'sqs:PurgeQueue',
  StartMessageMoveTask: 'sqs:StartMessageMoveTask',
  ListMessageMoveTasks: 'sqs:ListMessageMoveTasks',
  CancelMessageMoveTask: 'sqs:CancelMessageMoveTask',
  // S3 (DeleteObjects is authorized as s3:DeleteObject for each key)
  GetObject: 's3:GetObject',
  PutObject: 's3:PutObject',
  DeleteObjects: 's3:DeleteObject',
  // DynamoDB (BatchExecuteStatement/ExecuteStatement: per PartiQL verb, see partiqlActions)
  GetItem: 'dynamodb:GetItem',
  PutItem: 'dynamodb:PutItem',
  UpdateItem: 'dynamodb:UpdateItem',
  DeleteItem: 'dynamodb:DeleteItem',
  BatchWriteItem: 'dynamodb:BatchWriteItem',
  BatchGetItem: 'dynamodb:BatchGetItem',
  Query: 'dynamodb:Query',
  // CloudFormation, CloudWatch
  DescribeStacks: 'cloudformation:DescribeStacks',
  ListStackResources: 'cloudformation:ListStackResources',
  DescribeAlarms: 'cloudwatch:DescribeAlarms',
  GetMetricData: 'cloudwatch:GetMetricData',
  // EventBridge Scheduler
  GetSchedule: 'scheduler:GetSchedule',
  UpdateSchedule: 'scheduler:UpdateSchedule',
  // EventBridge
  PutEvents: 'events:PutEvents',
};

/** PartiQL statements are authorized per verb: INSERT → dynamodb:PartiQLInsert, … */
export function partiqlActions(source: string): string[] {
  const verbs = new Set([...source.matchAll(/`\s*(INSERT|UPDATE|DELETE|SELECT)\b/g)].map((m) => m[1]!));
  return [...verbs].map((v) => `dynamodb:PartiQL${v[0]}${v.slice(1).toLowerCase()}`).sort();
}

/**
 * The actions a TransactWriteItems call needs: one per kind of item it writes (AWS authorizes
 * each item as its single-item action), read from the `Put:` / `Update:` / `Delete:` /
 * `ConditionCheck:` keys in the call's file.
 */
export function transactWriteActions(source: string): string[] {
  const action = { Put: 'dynamodb:PutItem', Update: 'dynamodb:UpdateItem', Delete: 'dynamodb:DeleteItem', ConditionCheck: 'dynamodb:ConditionCheckItem' } as const;
  const kinds = new Set([...source.matchAll(/\b(Put|Update|Delete|ConditionCheck):\s*\{/g)].map((m) => m[1] as keyof typeof action));
  return [...kinds].map((k) => action[k]).sort();
}

/** The actions AWS authorizes the call site's command with. */
export function actionsOfCallSite(site: { readonly file: string; readonly command: string }): string[] {
  const source = () => readFileSync(join(REPOSITORY_ROOT, site.file), 'utf8');
  if (site.command === 'BatchExecuteStatement' || site.command === 'ExecuteStatement') return partiqlActions(source());
  if (site.command === 'TransactWriteItems') return transactWriteActions(source());
  return [IAM_ACTION_OF_COMMAND[site.command] ?? `(no IAM action known for ${site.command}: add it to IAM_ACTION_OF_COMMAND)`];
}

/** The .ts files under `dir` (recursively). */
export function sourceFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return sourceFiles(path);
    return name.endsWith('.ts') && !name.endsWith('.d.ts') ? [path] : [];
  });
}

/**
 * The files `entry` reaches through relative imports (static and `import()`), itself included —
 * what one program (the CLI, the consumer) can run.
 */
export function importClosure(entry: string): string[] {
  const seen = new Set<string>();
  const visit = (file: string) => {
    if (seen.has(file)) return;
    seen.add(file);
    const source = ts.createSourceFile(file, readFileSync(file, 'utf8'), ts.ScriptTarget.Latest, true);
    const specifiers: string[] = [];
    const walk = (node: ts.Node) => {
      if ((ts.isImportDeclaration(node) || ts.isExportDeclaration(node)) && node.moduleSpecifier && ts.isStringLiteral(node.moduleSpecifier)) {
        const typeOnly = ts.isImportDeclaration(node) ? node.importClause?.isTypeOnly === true : node.isTypeOnly;
        if (!typeOnly) specifiers.push(node.moduleSpecifier.text);
      }
      if (ts.isCallExpression(node) && node.expression.kind === ts.SyntaxKind.ImportKeyword && node.arguments[0] && ts.isStringLiteral(node.arguments[0])) {
        specifiers.push(node.arguments[0].text);
      }
      ts.forEachChild(node, walk);
    };
    walk(source);
    for (const specifier of specifiers) if (specifier.startsWith('.')) visit(resolve(dirname(file), specifier));
  };
  visit(resolve(entry));
  return [...seen].sort();
}

/** Every SDK call site in `files`. */
export function sdkCallSites(files: readonly string[]): SdkCallSite[] {
  const sites: SdkCallSite[] = [];
  for (const file of files) {
    const source = ts.createSourceFile(file, readFileSync(file, 'utf8'), ts.ScriptTarget.Latest, true);
    const rel = relative(REPOSITORY_ROOT, file);
    const walk = (node: ts.Node) => {
      let command: string | undefined;
      if (ts.isNewExpression(node)) {
        const name = ts.isPropertyAccessExpression(node.expression) ? node.expression.name.text : ts.isIdentifier(node.expression) ? node.expression.text : '';
        if (/^[A-Z]\w*Command$/.test(name)) command = name.slice(0, -'Command'.length);
      } else if (ts.isCallExpression(node) && ts.isIdentifier(node.expression) && /^paginate[A-Z]\w*$/.test(node.expression.text)) {
        command = node.expression.text.slice('paginate'.length);
      }
      if (command) {
        const enclosing = enclosingName(node);
        sites.push({ id: `${rel} › ${enclosing} › ${command}`, file: rel, enclosing, command });
      }
      ts.forEachChild(node, walk);
    };
    walk(source);
  }
  return sites;
}

function enclosingName(node: ts.Node): string {
  for (let n: ts.Node | undefined = node.parent; n; n = n.parent) {
    if ((ts.isFunctionDeclaration(n) || ts.isMethodDeclaration(n) || ts.isGetAccessorDeclaration(n)) && n.name) return n.name.getText();
    if ((ts.isArrowFunction(n) || ts.isFunctionExpression(n)) && n.parent) {
      const p = n.parent;
      if (ts.isVariableDeclaration(p) || ts.isPropertyAssignment(p) || ts.isPropertyDeclaration(p)) return p.name.getText();
    }
  }
  return '<module>';
}
