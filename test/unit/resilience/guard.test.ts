/**
 * The guard (guard.ts): run/callback/promise never throw and never leave a rejection
 * unhandled; each fault is logged once with `where`; onFault sees every fault, and an
 * onFault that throws (or reports again) is logged and dropped without recursion.
 */
import { EventEmitter } from 'node:events';
import t from 'tap';
import { type Fault, Guard } from '../../../supervisor/src/guard.js';
import { recordingLog, settle, watchUnhandled } from './fakes.js';

function make(onFault?: (f: Fault, g: Guard) => void) {
  const { log, lines } = recordingLog();
  const faults: Fault[] = [];
  const g: Guard = new Guard(log, (f) => {
    faults.push(f);
    onFault?.(f, g);
  });
  const errorsAt = (where: string) => lines.filter((l) => l.level === 'error' && l.obj.where === where);
  return { g, lines, faults, errorsAt };
}

t.test('run: a value passes through; a throw becomes one fault, logged once with where and stack', async (t) => {
  const { g, faults, errorsAt, lines } = make();
  t.equal(
    g.run('ok place', () => 42),
    42,
  );
  t.same(lines, [], 'nothing logged on success');
  let r: unknown = 'unset';
  t.doesNotThrow(() => {
    r = g.run('monitor sim: poll', () => {
      throw new Error('boom');
    });
  });
  t.equal(r, undefined);
  const logged = errorsAt('monitor sim: poll');
  t.equal(logged.length, 1, 'logged once');
  t.equal(lines.length, 1, 'and nothing else');
  t.match(logged[0]?.msg, /monitor sim: poll.*boom/);
  t.match((logged[0]?.obj.err as { stack?: string } | undefined)?.stack, /boom/, 'with the stack');
  t.equal(faults.length, 1);
  t.equal(faults[0]?.where, 'monitor sim: poll');
  t.equal(faults[0]?.error.message, 'boom');
  t.type(faults[0]?.at, 'number');
});

t.test('run: a returned promise that rejects is a fault, logged once, never unhandled', async (t) => {
  const unhandled = watchUnhandled(t);
  const { g, faults, errorsAt } = make();
  t.doesNotThrow(() =>
    g.run('reconciler x: attempt', async () => {
      await settle(1);
      throw new Error('async boom');
    }),
  );
  await settle(5);
  t.equal(errorsAt('reconciler x: attempt').length, 1, 'logged once');
  t.equal(faults.length, 1);
  t.equal(faults[0]?.error.message, 'async boom');
  t.same(unhandled, [], 'no unhandled rejection');
});

t.test('a non-Error throw becomes an Error with its text', async (t) => {
  const { g, faults } = make();
  g.run('somewhere', () => {
    throw 'a string';
  });
  t.type(faults[0]?.error, Error);
  t.equal(faults[0]?.error.message, 'a string');
});

t.test('callback: a throwing timer/listener callback never throws out; args are passed', async (t) => {
  const unhandled = watchUnhandled(t);
  const { g, faults, errorsAt } = make();
  const seen: unknown[] = [];
  const cb = g.callback('listener', (a: number, b: string) => {
    seen.push([a, b]);
    throw new Error('listener boom');
  });
  const em = new EventEmitter<{ x: [number, string] }>();
  em.on('x', cb);
  t.doesNotThrow(() => em.emit('x', 1, 'two'));
  t.same(seen, [[1, 'two']]);
  const asyncCb = g.callback('timer', async () => {
    throw new Error('timer boom');
  });
  await new Promise<void>((resolve) =>
    setTimeout(() => {
      asyncCb();
      resolve();
    }, 1),
  );
  await settle(5);
  t.equal(errorsAt('listener').length, 1);
  t.equal(errorsAt('timer').length, 1);
  t.same(
    faults.map((f) => f.where),
    ['listener', 'timer'],
  );
  t.equal(cb(3, 'four'), undefined, 'the wrapper returns nothing');
  t.same(unhandled, [], 'no unhandled rejection');
});

t.test('promise: a rejection nobody awaits is one fault, never unhandled; a resolution is nothing', async (t) => {
  const unhandled = watchUnhandled(t);
  const { g, faults, lines } = make();
  t.doesNotThrow(() => g.promise('fire and forget', Promise.reject(new Error('later'))));
  g.promise('fine', Promise.resolve(1));
  await settle(5);
  t.equal(lines.length, 1);
  t.same(
    faults.map((f) => [f.where, f.error.message]),
    [['fire and forget', 'later']],
  );
  t.same(unhandled, [], 'no unhandled rejection');
});

t.test('onFault that throws: logged and dropped; the caller is unaffected', async (t) => {
  let calls = 0;
  const { g, errorsAt } = make(() => {
    calls++;
    throw new Error('alarm sink down');
  });
  let r: unknown = 'unset';
  t.doesNotThrow(() => {
    r = g.run('api handler', () => {
      throw new Error('handler boom');
    });
  });
  t.equal(r, undefined);
  t.equal(calls, 1, 'onFault called once, not again for its own failure');
  t.equal(errorsAt('api handler').length, 1, 'the fault is logged once');
  t.equal(errorsAt('guard onFault').length, 1, 'the failing onFault is logged once');
  // The guard still works afterwards.
  g.run('again', () => {
    throw new Error('second');
  });
  t.equal(calls, 2);
});

t.test('onFault that reports a fault itself: logged, no recursion, no loop', async (t) => {
  let depth = 0;
  let calls = 0;
  const { g, errorsAt } = make((_f, guard) => {
    calls++;
    depth++;
    try {
      // e.g. raising the alarm writes an event, and that write faults under the same guard.
      guard.run('alarm write', () => {
        throw new Error('nested');
      });
    } finally {
      depth--;
    }
  });
  g.run('outer', () => {
    throw new Error('outer boom');
  });
  t.equal(calls, 1, 'onFault is not re-entered');
  t.equal(depth, 0);
  t.equal(errorsAt('outer').length, 1);
  t.equal(errorsAt('alarm write').length, 1, 'the nested fault is still logged');
  g.run('later', () => {
    throw new Error('after');
  });
  t.equal(calls, 2, 'onFault works again afterwards');
});
