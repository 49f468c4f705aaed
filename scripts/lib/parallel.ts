/** Run `fn` over `items` with at most `parallel` in flight (the bench, the fault suite, the worker tests). */
export async function inParallel<T>(items: T[], parallel: number, fn: (item: T, i: number) => Promise<unknown>) {
  let next = 0;
  const lane = async () => {
    while (next < items.length) {
      const i = next++;
      await fn(items[i]!, i);
    }
  };
  await Promise.all(Array.from({ length: Math.min(parallel, items.length) }, lane));
}
