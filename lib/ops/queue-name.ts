/** The queue name is the last path segment of its URL (`…/123456789012/my-queue.fifo`). */
export function queueNameFromUrl(queueUrl: string): string {
  const path = new URL(queueUrl).pathname.replace(/\/+$/, '');
  return path.slice(path.lastIndexOf('/') + 1);
}

export function isFifoQueueUrl(queueUrl: string): boolean {
  return queueNameFromUrl(queueUrl).endsWith('.fifo');
}
