/** A server-sent event stream of what a subscription pushes, ended by the client, by the studio closing, or after the last event. */
import type { Context } from 'hono';
import { streamSSE } from 'hono/streaming';
import type { ApiContext } from '../api.js';

export function eventStream<E extends { event: string; data: unknown }>(
  c: Context, ctx: ApiContext, subscribe: (push: (e: E) => void) => () => void, last: (e: E) => boolean = () => false,
): Response {
  return streamSSE(c, async (stream) => {
    const queue: E[] = [];
    let wake: (() => void) | null = null;
    let closed = false;
    const close = (): void => {
      closed = true;
      wake?.();
    };
    const untrack = ctx.track(close);
    stream.onAbort(close);
    const unsubscribe = subscribe((e) => {
      queue.push(e);
      wake?.();
    });
    try {
      for (;;) {
        while (queue.length > 0 && !closed) {
          const e = queue.shift()!;
          await stream.writeSSE({ event: e.event, data: JSON.stringify(e.data) });
          if (last(e)) return;
        }
        if (closed) return;
        await new Promise<void>((resolve) => { wake = resolve; });
        wake = null;
      }
    } finally {
      unsubscribe();
      untrack();
    }
  });
}
